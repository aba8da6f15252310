-- The analysis's HTML page as rendered when it was stored (the web app serves it as it was);
-- analyses stored before have none.
ALTER TABLE analyses ADD COLUMN html TEXT;
