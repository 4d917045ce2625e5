-- No planner statistics for embedding arrays: nothing filters on their elements, and gathering
-- them made ANALYZE of Passage about 20 times slower (0.8 s instead of 43 ms for 20,000 passages
-- of 384 dimensions on PGlite, which analyzes from src/db/pglite-analyze.ts).
ALTER TABLE "Passage" ALTER COLUMN "embedding" SET STATISTICS 0;
ALTER TABLE "MessageSearchIndex" ALTER COLUMN "embedding" SET STATISTICS 0;
