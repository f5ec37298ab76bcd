-- This server's keywords that quote_ident quotes (all but the unreserved ones), so the loader
-- quotes identifiers exactly as the server does.
SELECT k.word
FROM pg_catalog.pg_get_keywords() k
WHERE k.catcode <> 'U'
ORDER BY k.word
