-- Each write batch stamps its rows' `ingested_at` with a time later than every earlier
-- batch's (the wall clock, or one millisecond after the last stamp if the clock has not moved
-- on), so that a batch can tell a key it wrote itself (a duplicate in its input) from one
-- stored before.
CREATE TABLE write_stamps (last INTEGER NOT NULL);
INSERT INTO write_stamps (last) VALUES (0);
