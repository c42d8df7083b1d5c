-- Search-path hijack (issue 8): the functions live in schema anomaly, where only the
-- extension's owner creates objects.  A role with CREATE on public defines
-- public.anomaly_score(text, sp_tx), which beats anomaly_score(text, record) by an exact
-- type match for any unqualified call that finds public first; a qualified call is not
-- hijacked.
SET client_min_messages = warning;
SELECT DISTINCT pronamespace::regnamespace AS schema FROM pg_proc
WHERE proname LIKE 'anomaly\_%' AND pronamespace <> 'pg_catalog'::regnamespace;
SELECT extnamespace::regnamespace AS extension_schema FROM pg_extension WHERE extname = 'anomaly';
CREATE ROLE anomaly_mallory;
GRANT CREATE ON SCHEMA public TO anomaly_mallory;
CREATE TABLE sp_tx AS SELECT i AS id, sin(i * 0.1) * 10 AS amount, (i % 24) AS hour FROM generate_series(1, 300) i;
GRANT SELECT ON sp_tx TO PUBLIC;
SELECT version FROM anomaly.anomaly_create_model('sp_m', 'sp_tx', exclude => '{id}', options => '{"seed": 1, "epochs": 1}');

SET ROLE anomaly_mallory;
CREATE TABLE public.sp_stolen (who name, model text);
GRANT INSERT ON public.sp_stolen TO PUBLIC;
CREATE FUNCTION public.anomaly_score(model text, r sp_tx) RETURNS float8
LANGUAGE sql AS $$ INSERT INTO public.sp_stolen VALUES (current_user, model); SELECT -1::float8 $$;
CREATE FUNCTION public.anomaly_is_anomaly(model text, r sp_tx) RETURNS boolean
LANGUAGE sql AS $$ INSERT INTO public.sp_stolen VALUES (current_user, model); SELECT false $$;
-- nor may mallory put the overloads where the real functions are
CREATE FUNCTION anomaly.anomaly_score(model text, r sp_tx) RETURNS float8
LANGUAGE sql AS $$ SELECT -1::float8 $$;
RESET ROLE;

-- the victim (a superuser here) calls the qualified functions: the real score, nothing stolen
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('sp_m', t) <> -1) AS real_scores,
       count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('sp_m', t) IS NOT NULL) AS real_flags
FROM sp_tx t;
SELECT count(*) AS stolen FROM public.sp_stolen;
-- an unqualified call resolves to mallory's function: that is what qualifying prevents,
-- even with schema anomaly first on the search_path (an exact type match wins)
SELECT anomaly_score('sp_m', t) AS hijacked FROM sp_tx t WHERE id = 1;
SET search_path = anomaly, public;
SELECT anomaly_score('sp_m', t) AS hijacked_too FROM sp_tx t WHERE id = 1;
RESET search_path;
SELECT who, model FROM public.sp_stolen;

DROP FUNCTION public.anomaly_score(text, sp_tx), public.anomaly_is_anomaly(text, sp_tx);
DROP TABLE public.sp_stolen, sp_tx;
SELECT anomaly.anomaly_drop_model('sp_m');
REVOKE CREATE ON SCHEMA public FROM anomaly_mallory;
DROP ROLE anomaly_mallory;
