-- Reads select bars by series and open time (the key) and filter availability row by row; the
-- index on availability was never used by them, and cost a quarter of the space and a second
-- B-tree insert per bar.
DROP INDEX IF EXISTS candles_available;
