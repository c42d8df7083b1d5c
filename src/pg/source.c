/*-------------------------------------------------------------------------
 *
 * source.c
 *	  Reading the training rows of a model's source through SPI, and
 *	  building its feature specification from the result's columns.
 *
 * The source is a table or view name, or a query (SELECT, WITH, VALUES or
 * TABLE).  It is read once, through a read-only cursor in batches, as the
 * calling user.  Every column not excluded becomes a feature: numbers and
 * booleans one dimension each, text and enums one-hot over their most
 * frequent values plus an "other" slot.  Rows beyond max_rows, or beyond
 * half of maintenance_work_mem, are sampled uniformly (reservoir
 * sampling), while category counts still see every row.  The category
 * dictionaries may use an eighth of maintenance_work_mem: once they are
 * full, values not seen before count as "other".  The rest is left to the
 * network, its optimiser and workspaces (anomaly_context_set_budget).
 *
 * The source runs with the transaction marked read-only, so that a
 * volatile function called by it cannot write either.
 *
 * IDENTIFICATION
 *	  src/pg/source.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/mman.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/regproc.h"

#include "anomaly/pg.h"
#include "anomaly/rng.h"

/* a distinct value of a categorical column */
typedef struct CategoryEntry
{
	char	   *value;			/* hash key: points to a copy in the data context */
	int			code;
} CategoryEntry;

typedef struct SourceColumn
{
	int			attno;			/* in the cursor's tuple descriptor */
	char	   *name;
	Oid			basetype;		/* the column's type, through domains */
	AnomalyTypeClass cls;

	/* categorical columns: distinct values and their counts over all rows */
	HTAB	   *dict;
	int			n_codes;
	int			codes_cap;
	char	  **code_values;
	int64	   *code_counts;
} SourceColumn;

/* ---- source resolution ---- */

bool
anomaly_source_is_query(const char *source)
{
	static const char *const keywords[] = {"select", "with", "values", "table", NULL};
	const char *p = source;

	while (*p && (scanner_isspace(*p) || *p == '('))
		p++;
	for (int i = 0; keywords[i]; i++)
	{
		size_t		len = strlen(keywords[i]);

		if (pg_strncasecmp(p, keywords[i], len) == 0 &&
			(p[len] == '\0' || scanner_isspace(p[len]) || p[len] == '('))
			return true;
	}
	return false;
}

static char *
source_query(const char *source)
{
	List	   *names;
	RangeVar   *rv;
	Oid			relid;

	if (anomaly_source_is_query(source))
		return pstrdup(source);

	names = stringToQualifiedNameList(source);
	rv = makeRangeVarFromNameList(names);
	relid = RangeVarGetRelid(rv, AccessShareLock, true);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" does not exist", source),
				 errhint("The source is a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.")));
	return psprintf("SELECT * FROM %s",
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											   get_rel_name(relid)));
}

/* training never writes: reject data-modifying statements up front */
static void
check_read_only(SPIPlanPtr plan)
{
	ListCell   *lc;

	foreach(lc, SPI_plan_get_plan_sources(plan))
	{
		CachedPlanSource *src = (CachedPlanSource *) lfirst(lc);
		ListCell   *lq;

		foreach(lq, src->query_list)
		{
			Query	   *q = lfirst_node(Query, lq);

			if (q->commandType != CMD_SELECT || q->hasModifyingCTE || q->rowMarks != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the source query must not modify or lock rows"),
						 errhint("Use a plain SELECT, WITH, VALUES or TABLE query.")));
		}
	}
}

/* ---- categorical dictionaries ---- */

static uint32
category_hash(const void *key, Size keysize)
{
	const char *s = *(char *const *) key;

	return hash_bytes((const unsigned char *) s, strlen(s));
}

static int
category_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* what the dictionaries may hold, and what they hold */
typedef struct DictBudget
{
	size_t		limit;
	size_t		used;
	bool		full;			/* a new value was counted as "other" */
} DictBudget;

/* a value's bytes in a dictionary: the string, its entry, its code slots */
#define CATEGORY_OVERHEAD	(sizeof(CategoryEntry) + 64 + sizeof(char *) + sizeof(int64))

/*
 * The code of value in col's dictionary, entered if new; -1 ("other", as
 * NULL) for a new value once the dictionaries have used their budget.
 */
static int
category_code(SourceColumn *col, const char *value, MemoryContext data_cxt,
			  DictBudget *budget)
{
	CategoryEntry *entry = hash_search(col->dict, &value, HASH_FIND, NULL);

	if (entry == NULL)
	{
		size_t		cost = strlen(value) + 1 + CATEGORY_OVERHEAD;

		if (budget->used + cost > budget->limit)
		{
			budget->full = true;
			return -1;
		}
		budget->used += cost;
		entry = hash_search(col->dict, &value, HASH_ENTER, NULL);
		entry->value = MemoryContextStrdup(data_cxt, value);
		if (col->n_codes == col->codes_cap)
		{
			col->codes_cap = col->codes_cap ? col->codes_cap * 2 : 64;
			col->code_values = col->code_values
				? repalloc_huge(col->code_values, sizeof(char *) * col->codes_cap)
				: MemoryContextAlloc(data_cxt, sizeof(char *) * col->codes_cap);
			col->code_counts = col->code_counts
				? repalloc_huge(col->code_counts, sizeof(int64) * col->codes_cap)
				: MemoryContextAlloc(data_cxt, sizeof(int64) * col->codes_cap);
		}
		entry->code = col->n_codes;
		col->code_values[col->n_codes] = entry->value;
		col->code_counts[col->n_codes] = 0;
		col->n_codes++;
	}
	col->code_counts[entry->code]++;
	return entry->code;
}

/* ---- columns ---- */

static bool
name_listed(const char *name, List *exclude)
{
	ListCell   *lc;

	foreach(lc, exclude)
		if (strcmp(name, (char *) lfirst(lc)) == 0)
			return true;
	return false;
}

static List *
exclude_names(ArrayType *exclude)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *names = NIL;

	if (exclude == NULL)
		return NIL;
	if (ARR_NDIM(exclude) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("exclude must be a one-dimensional array of column names")));
	deconstruct_array(exclude, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("exclude must not contain NULL")));
		names = lappend(names, TextDatumGetCString(elems[i]));
	}
	return names;
}

static bool
column_present(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return true;
	return false;
}

/*
 * The feature columns: every column not excluded, or, when keep is not
 * NIL (a retrain), exactly the columns in keep, so that a column added to
 * the source since (a score column, say) does not silently become a
 * feature.
 */
static SourceColumn *
discover_columns(TupleDesc desc, List *exclude, List *keep, MemoryContext data_cxt,
				 int *ncols)
{
	SourceColumn *cols = MemoryContextAllocZero(data_cxt, sizeof(SourceColumn) * desc->natts);
	ListCell   *lc;
	int			n = 0;

	foreach(lc, exclude)
	{
		const char *name = lfirst(lc);

		if (!column_present(desc, name))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" in exclude does not exist in the source", name)));
	}
	foreach(lc, keep)
	{
		const char *name = lfirst(lc);

		if (!column_present(desc, name))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("feature column \"%s\" of the previous version does not exist in the source", name),
					 errhint("A retrain keeps the previous version's features; to change them, train with anomaly.anomaly_create_model(..., replace => true).")));
	}

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		SourceColumn *col;

		if (att->attisdropped || name_listed(name, exclude))
			continue;
		if (keep != NIL && !name_listed(name, keep))
			continue;
		for (int j = 0; j < n; j++)
			if (strcmp(cols[j].name, name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("the source has two columns named \"%s\"", name),
						 errhint("Rename one of them in a source query.")));
		col = &cols[n++];
		col->attno = i + 1;
		col->name = MemoryContextStrdup(data_cxt, name);
		col->basetype = getBaseType(att->atttypid);
		col->cls = anomaly_type_class(att->atttypid);
		if (col->cls == ANOMALY_TYPE_UNSUPPORTED)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" has type %s, which cannot be a feature",
							name, format_type_be(att->atttypid)),
					 errhint("Add it to exclude, or cast it to a number, boolean or text in a source query.")));
		if (col->cls == ANOMALY_TYPE_TEXT)
		{
			HASHCTL		ctl;

			ctl.keysize = sizeof(char *);
			ctl.entrysize = sizeof(CategoryEntry);
			ctl.hash = category_hash;
			ctl.match = category_match;
			ctl.hcxt = data_cxt;
			col->dict = hash_create("anomaly categories", 256, &ctl,
									HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		}
	}
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the source has no feature columns"),
				 errhint("Every column was excluded or the source has none.")));
	*ncols = n;
	return cols;
}

/* ---- the feature specification ---- */

static SourceColumn *sort_column;	/* for category_order */

/* most frequent first; ties by value, so the order is deterministic */
static int
category_order(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;
	int64		cx = sort_column->code_counts[x];
	int64		cy = sort_column->code_counts[y];

	if (cx != cy)
		return cx > cy ? -1 : 1;
	return strcmp(sort_column->code_values[x], sort_column->code_values[y]);
}

/* a column without a value carries nothing to learn: name it */
static void
all_null_error(const char *column)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("column \"%s\" is NULL in every training row", column),
			 errhint("Add it to exclude.")));
}

/*
 * The spec from the columns; slot_of_code[i][code] receives the one-hot
 * slot of each category code of categorical column i.
 */
static void
build_spec(AnContext *ctx, SourceColumn *cols, int ncols, const double *rows, size_t n,
		   int max_categories, bool dict_full, AnFeatureSpec *spec, int **slot_of_code)
{
	AnStatus	st;
	double	   *sum = palloc0(sizeof(double) * ncols);
	size_t	   *count = palloc0(sizeof(size_t) * ncols);

	spec->n_features = ncols;
	spec->features = an_alloc_array(ctx, ncols, sizeof(AnFeature));
	if (!spec->features)
		anomaly_core_error(ctx, an_nomem(ctx));

	/*
	 * The means of the numeric columns, in one pass over the rows in their
	 * order: each column's sum adds the same values in the same order as a
	 * pass per column would, without striding through the buffer once per
	 * column (30 passes over 240 MB at a million rows).  Category codes
	 * are summed too and ignored.
	 */
	for (size_t r = 0; r < n; r++)
	{
		const double *row = rows + r * ncols;

		for (int i = 0; i < ncols; i++)
			if (!isnan(row[i]))
			{
				sum[i] += row[i];
				count[i]++;
			}
	}

	for (int i = 0; i < ncols; i++)
	{
		SourceColumn *col = &cols[i];
		AnFeature  *f = &spec->features[i];

		f->name = an_strdup(ctx, col->name);
		if (col->cls != ANOMALY_TYPE_TEXT)
		{
			f->kind = col->cls == ANOMALY_TYPE_BOOLEAN ? AN_FEATURE_BOOLEAN : AN_FEATURE_NUMERIC;
			if (count[i] == 0)
				all_null_error(col->name);
			f->fill = sum[i] / (double) count[i];
		}
		else
		{
			int		   *order = palloc(sizeof(int) * (col->n_codes + 1));
			int			kept = Min(col->n_codes, max_categories);

			f->kind = AN_FEATURE_CATEGORICAL;
			if (col->n_codes == 0 && !dict_full)
				all_null_error(col->name);
			for (int c = 0; c < col->n_codes; c++)
				order[c] = c;
			sort_column = col;
			qsort(order, col->n_codes, sizeof(int), category_order);

			slot_of_code[i] = palloc(sizeof(int) * (col->n_codes + 1));
			f->categories = an_alloc_array(ctx, kept + 1, sizeof(char *));
			for (int c = 0; c < col->n_codes; c++)
			{
				slot_of_code[i][order[c]] = c < kept ? c : kept;
				if (c < kept)
					f->categories[c] = an_strdup(ctx, col->code_values[order[c]]);
			}
			f->n_categories = kept;
			pfree(order);
		}
	}
	pfree(sum);
	pfree(count);
	st = an_spec_layout(ctx, spec);
	if (st != AN_OK)
		anomaly_core_error(ctx, st);
}

/* one-hot and fill: rows (n x ncols) into raw (n x dim) */
static void
encode_rows(const AnFeatureSpec *spec, const double *rows, size_t n, int ncols,
			int **slot_of_code, double *raw)
{
	for (size_t r = 0; r < n; r++)
	{
		double	   *out = raw + r * spec->dim;

		for (int i = 0; i < ncols; i++)
		{
			const AnFeature *f = &spec->features[i];
			double		x = rows[r * ncols + i];

			if (f->kind != AN_FEATURE_CATEGORICAL)
				out[f->offset] = isnan(x) ? f->fill : x;
			else
			{
				/* NULL (code -1) goes to "other" */
				int			slot = x < 0 ? f->n_categories : slot_of_code[i][(int) x];

				out[f->offset + slot] = 1.0;
			}
		}
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* ---- loading ---- */

/*
 * Rows that fit in half of maintenance_work_mem: the column buffer plus
 * the encoded rows, in doubles.
 */
static size_t
row_budget(const AnOptions *opts, SourceColumn *cols, int ncols)
{
	double		per_row = 0;
	double		budget = (double) maintenance_work_mem * 1024.0 / 2;
	double		rows;

	for (int i = 0; i < ncols; i++)
		per_row += 8.0 * (1 + (cols[i].cls == ANOMALY_TYPE_TEXT ? opts->max_categories + 1 : 1));
	rows = Min((double) opts->max_rows, floor(budget / per_row));
	if (rows < AN_MIN_TRAIN_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("maintenance_work_mem (%d kB) cannot hold %d encoded rows of this source",
						maintenance_work_mem, AN_MIN_TRAIN_ROWS),
				 errdetail("A row takes %.0f bytes while it is loaded and encoded, and rows may use half of maintenance_work_mem.",
						   per_row),
				 errhint("Lower the \"max_categories\" option, exclude columns, or raise maintenance_work_mem.")));
	return (size_t) rows;
}

/*
 * The executor hands every source row to this receiver: no tuple is copied
 * or buffered on the way, unlike an SPI cursor's tuple tables.
 */
typedef struct SourceReceiver
{
	DestReceiver pub;
	const AnOptions *opts;
	List	   *excluded;
	List	   *keep;
	MemoryContext data_cxt;		/* what outlives the query */
	MemoryContext row_cxt;		/* per-row scratch, reset now and then */
	DictBudget	dict;
	SourceColumn *cols;
	int			ncols;
	double	   *rows;			/* up to cap rows of ncols values */
	size_t		cap;
	size_t		allocated;
	size_t		expected;		/* the first allocation's rows */
	int64		seen;
	bool		has_null;		/* a NULL number was stored */
	AnRng		rng;
} SourceReceiver;

static void
source_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	SourceReceiver *r = (SourceReceiver *) self;

	r->cols = discover_columns(desc, r->excluded, r->keep, r->data_cxt, &r->ncols);
	r->cap = row_budget(r->opts, r->cols, r->ncols);
}

/*
 * The planner's estimate of the source's rows, with a tenth more for
 * statistics that lag behind, and at least 1024: the row buffer is
 * allocated once at that size, instead of doubling from 1024 rows through
 * reallocations that copy what was read so far into new pages.  Pages of
 * the buffer that no row reaches are never touched, so they take no
 * memory (but address space) even when the estimate is high.
 */
static size_t
expected_rows(SPIPlanPtr plan)
{
	CachedPlan *cplan = SPI_plan_get_cached_plan(plan);
	double		rows = 0.0;

	if (cplan == NULL)
		return 1024;
	if (list_length(cplan->stmt_list) == 1)
	{
		PlannedStmt *stmt = linitial_node(PlannedStmt, cplan->stmt_list);

		if (stmt->planTree)
			rows = stmt->planTree->plan_rows;
	}
	/* unsaved (anomaly_prepare_source keeps no plan): no resource owner */
	ReleaseCachedPlan(cplan, NULL);
	return (size_t) Min(Max(rows * 1.1 + 1024.0, 1024.0), (double) (SIZE_MAX / 4096));
}

/*
 * The row buffer is filled once, in order, and is hundreds of megabytes at
 * a million rows: with 4 kB pages, the first touch of each page (a fault,
 * dearer still under a hypervisor: about 1 s for 240 MB on the benchmark
 * machine) cost more than converting the values.  Transparent huge pages,
 * where the kernel offers them on request ("madvise" mode), fault in 2 MB
 * at a time; the advice must come before the first touch.  Only the 2
 * MB-aligned interior is advised; a kernel without them ignores it.
 */
static void
advise_huge_pages(void *buf, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t) 2 << 20;
	uintptr_t	start = ((uintptr_t) buf + huge - 1) & ~(huge - 1);
	uintptr_t	end = ((uintptr_t) buf + bytes) & ~(huge - 1);

	if (end > start)
		(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
#endif
}

/* does the spec encode any column one-hot (its rows then hold codes)? */
static bool
has_categorical(const AnFeatureSpec *spec)
{
	for (int i = 0; i < spec->n_features; i++)
		if (spec->features[i].kind == AN_FEATURE_CATEGORICAL)
			return true;
	return false;
}

/* where the next row goes: its slot in the buffer, or NULL if not sampled */
static double *
row_slot(SourceReceiver *r)
{
	size_t		slot;

	r->seen++;
	if ((size_t) (r->seen - 1) < r->cap)
		slot = (size_t) (r->seen - 1);
	else
	{
		/* reservoir sampling once the buffer is full */
		uint64_t	j = an_rng_below(&r->rng, (uint64_t) r->seen);

		if (j >= r->cap)
			return NULL;
		slot = (size_t) j;
	}
	if (slot >= r->allocated)
	{
		size_t		grow = Min(r->cap, Max(r->allocated * 2, r->expected));
		size_t		bytes = grow * r->ncols * sizeof(double);

		r->rows = r->rows ? repalloc_huge(r->rows, bytes)
			: MemoryContextAllocHuge(r->data_cxt, bytes);
		r->allocated = grow;
		advise_huge_pages(r->rows, bytes);
	}
	return r->rows + slot * r->ncols;
}

static bool
source_receive(TupleTableSlot *slot, DestReceiver *self)
{
	SourceReceiver *r = (SourceReceiver *) self;
	double	   *dst = row_slot(r);
	MemoryContext oldcxt;

	if ((r->seen & 1023) == 0)
	{
		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(r->row_cxt);
	}
	slot_getallattrs(slot);
	oldcxt = MemoryContextSwitchTo(r->row_cxt);
	for (int i = 0; i < r->ncols; i++)
	{
		SourceColumn *col = &r->cols[i];
		bool		isnull = slot->tts_isnull[col->attno - 1];
		Datum		value = slot->tts_values[col->attno - 1];
		double		x;

		/* category counts see every row, sampled or not */
		if (col->cls == ANOMALY_TYPE_TEXT)
			x = isnull ? -1.0
				: (double) category_code(col, anomaly_datum_to_category(value, col->basetype),
										 r->data_cxt, &r->dict);
		else if (dst == NULL)
			continue;
		else if (isnull)
		{
			x = NAN;
			r->has_null = true;
		}
		else
			x = anomaly_feature_double(value, col->basetype, col->name);
		if (dst)
			dst[i] = x;
	}
	MemoryContextSwitchTo(oldcxt);
	return true;
}

static void
source_shutdown(DestReceiver *self)
{
}

static void
source_destroy(DestReceiver *self)
{
}

void
anomaly_load_training_set(AnContext *ctx, const char *source, ArrayType *exclude,
						  List *keep_columns, const AnOptions *opts,
						  AnomalyTrainingSet *set)
{
	SourceReceiver r;
	SPIExecuteOptions exec;
	SPIPlanPtr	plan;
	SourceColumn *cols;
	int			ncols;
	double	   *rows;
	int64		seen;
	bool		has_null;
	int		  **slot_of_code;

	memset(set, 0, sizeof(*set));
	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = source_receive;
	r.pub.rStartup = source_startup;
	r.pub.rShutdown = source_shutdown;
	r.pub.rDestroy = source_destroy;
	r.pub.mydest = DestNone;
	r.opts = opts;
	r.excluded = exclude_names(exclude);
	r.keep = keep_columns;
	r.data_cxt = (MemoryContext) ctx->arg;
	r.row_cxt = AllocSetContextCreate(CurrentMemoryContext, "anomaly source row",
									  ALLOCSET_DEFAULT_SIZES);
	an_rng_seed(&r.rng, opts->seed ^ UINT64_C(0x5DEECE66D));
	r.dict.limit = (size_t) maintenance_work_mem * 1024 / 8;

	source = anomaly_sample_on_workers(source, opts);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "anomaly: SPI_connect failed");
	plan = anomaly_prepare_source(source);
	r.expected = expected_rows(plan);

	memset(&exec, 0, sizeof(exec));
	exec.read_only = true;
	exec.dest = &r.pub;

	/*
	 * The plan check above sees only the top-level statement: a volatile
	 * function called by the source could still write.  Running the source
	 * in a read-only transaction state stops that too ("cannot execute
	 * INSERT in a read-only transaction"); the state is restored whatever
	 * happens, and the catalog is written only after training.
	 */
	{
		bool		was_read_only = XactReadOnly;

		XactReadOnly = true;
		PG_TRY();
		{
			/* a receiver of kind DestNone makes SPI report SPI_OK_UTILITY */
			if (SPI_execute_plan_extended(plan, &exec) < 0)
				elog(ERROR, "anomaly: the source query failed");
		}
		PG_FINALLY();
		{
			XactReadOnly = was_read_only;
		}
		PG_END_TRY();
	}
	SPI_finish();
	MemoryContextDelete(r.row_cxt);

	cols = r.cols;
	ncols = r.ncols;
	rows = r.rows;
	seen = r.seen;
	has_null = r.has_null;
	set->n = (size_t) Min((int64) r.cap, seen);
	if (seen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA),
				 errmsg("the source returned no rows to train on")));

	set->rows_seen = seen;
	if (set->n < AN_MIN_TRAIN_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA),
				 errmsg("the source returned " INT64_FORMAT " row, and training needs at least %d",
						seen, AN_MIN_TRAIN_ROWS)));
	if (r.dict.full)
		ereport(NOTICE,
				(errmsg("the category dictionaries reached an eighth of maintenance_work_mem: values first seen after that count as \"other\""),
				 errhint("Raise maintenance_work_mem for exact category counts.")));
	if ((size_t) seen > set->n && anomaly_progress_notice())
		ereport(NOTICE,
				(errmsg("training on a random sample of %zu of the source's " INT64_FORMAT " rows",
						set->n, seen),
				 errhint("The sample is bounded by the max_rows option and by maintenance_work_mem.")));

	slot_of_code = palloc0(sizeof(int *) * ncols);
	build_spec(ctx, cols, ncols, rows, set->n, opts->max_categories, r.dict.full,
			   &set->spec, slot_of_code);

	if (!has_categorical(&set->spec))
	{
		/*
		 * No categorical column: the rows already are the encoded vectors
		 * but for NULLs.  Asked of the kinds, not as dim == ncols: a
		 * categorical column that kept no category would be one slot wide
		 * and still hold codes.  Filling those in place saves a second
		 * copy, whose page faults cost more than the copy itself; without a
		 * NULL there is nothing to fill.
		 */
		if (has_null)
			for (size_t r = 0; r < set->n; r++)
				for (int i = 0; i < ncols; i++)
					if (isnan(rows[r * ncols + i]))
						rows[r * ncols + i] = set->spec.features[i].fill;
		set->raw = rows;
		return;
	}
	set->raw = an_alloc_array(ctx, set->n * set->spec.dim, sizeof(double));
	if (!set->raw)
		anomaly_core_error(ctx, an_nomem(ctx));
	encode_rows(&set->spec, rows, set->n, ncols, slot_of_code, set->raw);
	pfree(rows);
}

struct _SPI_plan *
anomaly_prepare_source(const char *source)
{
	SPIPlanPtr	plan = SPI_prepare(source_query(source), 0, NULL);

	if (plan == NULL)
		elog(ERROR, "anomaly: could not prepare the source query: %s",
			 SPI_result_code_string(SPI_result));
	if (!SPI_is_cursor_plan(plan))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the source must be a single query that returns rows"),
				 errdetail("Source: %s", source)));
	check_read_only(plan);
	return plan;
}
