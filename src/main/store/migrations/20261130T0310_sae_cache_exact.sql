-- Exact values (float32 as extracted) of chosen features in a cache row: the top-feature
-- candidates of an analysis, filled by a second pass over the phrases whose row cannot tell a
-- candidate's value exactly (left out of the float16 list, or only in it). Merged feature by
-- feature as later analyses ask for more; NULL until an analysis asks.
-- deflate(u32 n | varint feature deltas, ascending | f32 means | f32 maxima)
ALTER TABLE sae_cache ADD COLUMN exact BLOB;
