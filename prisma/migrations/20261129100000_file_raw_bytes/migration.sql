-- The uploaded bytes of a file whose text is extracted in the background (PDF); cleared once processing ends.
ALTER TABLE "File" ADD COLUMN "rawBytes" BYTEA;
