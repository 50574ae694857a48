/* bw-pickle.c: see bw-pickle.h.
 *
 * Every value is owned by the BwPickle's arena, not reference counted: a hostile pickle can
 * build cycles (a list that holds itself), and the arena frees those too. Each opcode
 * allocates a bounded amount per byte of input, and none loops over more than it pops, so
 * memory and time stay proportional to the pickle's size.
 */
#include "bw-pickle.h"

#include <string.h>
#include "bw-i18n.h"

struct _BwPickle {
  char *display;
  GPtrArray *arena;          /* BwPickleValue *, all of them */
  GHashTable *storages;      /* key -> const BwPickleValue * (STORAGE) */
};

/* The state of one run. */
typedef struct {
  BwPickle *self;
  const guint8 *data;
  gsize len;
  gsize pos;
  gsize op_pos;              /* where the current opcode starts, for messages */
  gboolean short_input;
  GPtrArray *stack;          /* not owning */
  GArray *marks;             /* gsize: stack lengths at each MARK */
  GHashTable *memo;          /* GUINT_TO_POINTER (index) -> value */
  GError **error;
} Run;

static void
value_free (gpointer data)
{
  BwPickleValue *v = data;

  switch (v->kind)
    {
    case BW_PV_STR:
    case BW_PV_BYTES:
    case BW_PV_BIGINT:
      g_free (v->str.data);
      break;
    case BW_PV_TUPLE:
      g_free (v->tuple.items);
      break;
    case BW_PV_LIST:
    case BW_PV_DICT:
      g_ptr_array_unref (v->items);
      break;
    case BW_PV_NONE:
    case BW_PV_BOOL:
    case BW_PV_INT:
    case BW_PV_FLOAT:
    case BW_PV_GLOBAL:
    case BW_PV_STORAGE:
    case BW_PV_TENSOR:
    default:
      break;
    }
  g_free (v);
}

static BwPickleValue *
value_new (BwPickle     *self,
           BwPickleKind  kind)
{
  BwPickleValue *v = g_new0 (BwPickleValue, 1);

  v->kind = kind;
  if (kind == BW_PV_LIST || kind == BW_PV_DICT)
    v->items = g_ptr_array_new ();
  g_ptr_array_add (self->arena, v);
  return v;
}

BwPickle *
bw_pickle_new (const char *display)
{
  BwPickle *self = g_new0 (BwPickle, 1);

  self->display = g_strdup (display);
  self->arena = g_ptr_array_new_with_free_func (value_free);
  self->storages = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

void
bw_pickle_free (BwPickle *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->storages);
  g_ptr_array_unref (self->arena);
  g_free (self->display);
  g_free (self);
}

const BwPickleValue *
bw_pickle_lookup_storage (BwPickle   *self,
                          const char *key)
{
  return g_hash_table_lookup (self->storages, key);
}

/* Errors: all FORMAT, all naming the file; a run stops at the first. */

G_GNUC_PRINTF (2, 3)
static gboolean
damaged (Run        *run,
         const char *format,
         ...)
{
  va_list args;
  g_autofree char *what = NULL;

  if (run->error != NULL && *run->error != NULL)
    return FALSE;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (run->error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
               "“%s” is damaged or not a PyTorch state dict: its pickle %s (at byte %" G_GSIZE_FORMAT ").",
               run->self->display, what, run->op_pos);
  return FALSE;
}

static gboolean
need (Run   *run,
      gsize  n)
{
  if (n <= run->len - run->pos)
    return TRUE;
  run->short_input = TRUE;
  if (run->error != NULL && *run->error == NULL)
    g_set_error (run->error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                 _("“%s” is truncated: its pickle ends before it is complete. Download it again."),
                 run->self->display);
  return FALSE;
}

static guint64
read_le (Run   *run,
         guint  n)
{
  guint64 v = 0;

  for (guint i = 0; i < n; i++)
    v |= (guint64) run->data[run->pos + i] << (8 * i);
  run->pos += n;
  return v;
}

/* The stack. Pops never reach below the last MARK, as in CPython. */

static gsize
stack_floor (Run *run)
{
  return run->marks->len > 0 ? g_array_index (run->marks, gsize, run->marks->len - 1) : 0;
}

static void
push (Run           *run,
      BwPickleValue *v)
{
  g_ptr_array_add (run->stack, v);
}

static BwPickleValue *
pop (Run *run)
{
  if (run->stack->len <= stack_floor (run))
    {
      damaged (run, "pops an empty stack");
      return NULL;
    }
  return g_ptr_array_steal_index (run->stack, run->stack->len - 1);
}

static BwPickleValue *
top (Run *run)
{
  if (run->stack->len <= stack_floor (run))
    {
      damaged (run, "reads an empty stack");
      return NULL;
    }
  return g_ptr_array_index (run->stack, run->stack->len - 1);
}

/* Removes everything above the last MARK, and the MARK; returns where it started. */
static gboolean
pop_mark (Run   *run,
          gsize *start)
{
  if (run->marks->len == 0)
    return damaged (run, "has no MARK to pop to");
  *start = g_array_index (run->marks, gsize, run->marks->len - 1);
  g_array_set_size (run->marks, run->marks->len - 1);
  return TRUE;
}

static BwPickleValue *
make_tuple (Run   *run,
            gsize  start)
{
  BwPickleValue *t = value_new (run->self, BW_PV_TUPLE);
  gsize n = run->stack->len - start;

  t->tuple.n = n;
  t->tuple.items = g_new (BwPickleValue *, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    t->tuple.items[i] = g_ptr_array_index (run->stack, start + i);
  g_ptr_array_set_size (run->stack, start);
  return t;
}

/* Strings. */

static BwPickleValue *
make_string (Run          *run,
             const guint8 *bytes,
             gsize         n,
             gboolean      must_be_text)
{
  BwPickleValue *v;
  gboolean text = g_utf8_validate_len ((const char *) bytes, n, NULL);

  if (must_be_text && !text)
    {
      damaged (run, "holds a string that is not UTF-8");
      return NULL;
    }
  v = value_new (run->self, text ? BW_PV_STR : BW_PV_BYTES);
  v->str.data = g_malloc (n + 1);
  memcpy (v->str.data, bytes, n);
  v->str.data[n] = '\0';
  v->str.len = n;
  return v;
}

static gboolean
op_string (Run      *run,
           guint     len_bytes,
           gboolean  is_signed,
           int       kind)   /* 0: unicode, 1: py2 str (text if UTF-8), 2: bytes */
{
  guint64 n;
  BwPickleValue *v;

  if (!need (run, len_bytes))
    return FALSE;
  n = read_le (run, len_bytes);
  if (is_signed && len_bytes == 4 && n > G_MAXINT32)
    return damaged (run, "has a negative string length");
  if (!need (run, n))   /* bounds n by the input before anything is allocated */
    return FALSE;
  if (kind == 2)
    {
      v = value_new (run->self, BW_PV_BYTES);
      v->str.data = g_malloc (n + 1);
      memcpy (v->str.data, run->data + run->pos, n);
      v->str.data[n] = '\0';
      v->str.len = n;
    }
  else
    {
      v = make_string (run, run->data + run->pos, n, kind == 0);
      if (v == NULL)
        return FALSE;
    }
  run->pos += n;
  push (run, v);
  return TRUE;
}

/* Python ints: little-endian two's complement of any length. */
static gboolean
op_long (Run   *run,
         guint  len_bytes)
{
  guint64 n;
  BwPickleValue *v;

  if (!need (run, len_bytes))
    return FALSE;
  n = read_le (run, len_bytes);
  if (len_bytes == 4 && n > G_MAXINT32)
    return damaged (run, "has a negative LONG4 length");
  if (!need (run, n))
    return FALSE;
  if (n <= 8)
    {
      guint64 u = n > 0 ? read_le (run, n) : 0;

      if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1)
        u |= G_MAXUINT64 << (8 * n);   /* sign-extend */
      v = value_new (run->self, BW_PV_INT);
      v->i = (gint64) u;
    }
  else
    {
      v = value_new (run->self, BW_PV_BIGINT);
      v->str.data = g_memdup2 (run->data + run->pos, n);
      v->str.len = n;
      run->pos += n;
    }
  push (run, v);
  return TRUE;
}

/* Globals: the allow-list. Nothing is imported; a name maps to what we evaluate ourselves. */

static const struct {
  const char *name;
  BwDtype dtype;
} storage_types[] = {
  { "FloatStorage", BW_DTYPE_F32 },
  { "HalfStorage", BW_DTYPE_F16 },
  { "BFloat16Storage", BW_DTYPE_BF16 },
  { "DoubleStorage", BW_DTYPE_F64 },
  { "LongStorage", BW_DTYPE_I64 },
  { "IntStorage", BW_DTYPE_I32 },
  { "ShortStorage", BW_DTYPE_I16 },
  { "CharStorage", BW_DTYPE_I8 },
  { "ByteStorage", BW_DTYPE_U8 },
  { "BoolStorage", BW_DTYPE_BOOL },
};

static gboolean
push_global (Run        *run,
             const char *module,
             const char *name)
{
  BwPickleValue *v = value_new (run->self, BW_PV_GLOBAL);

  if (g_str_equal (module, "collections") && g_str_equal (name, "OrderedDict"))
    v->global.which = BW_PG_ORDERED_DICT;
  else if (g_str_equal (module, "torch._utils") && g_str_equal (name, "_rebuild_tensor_v2"))
    v->global.which = BW_PG_REBUILD_TENSOR_V2;
  else if (g_str_equal (module, "torch._utils") && g_str_equal (name, "_rebuild_tensor"))
    v->global.which = BW_PG_REBUILD_TENSOR;
  else if (g_str_equal (module, "torch._utils") && g_str_equal (name, "_rebuild_parameter"))
    v->global.which = BW_PG_REBUILD_PARAMETER;
  else
    {
      gboolean found = FALSE;

      /* Files saved from a GPU name torch.cuda.FloatStorage; the bytes are the same */
      if (g_str_equal (module, "torch") || g_str_equal (module, "torch.cuda"))
        for (guint i = 0; i < G_N_ELEMENTS (storage_types); i++)
          if (g_str_equal (name, storage_types[i].name))
            {
              v->global.which = BW_PG_STORAGE;
              v->global.dtype = storage_types[i].dtype;
              found = TRUE;
            }
      if (!found)
        {
          g_autofree char *shown = g_strescape (module, NULL);
          g_autofree char *shown_name = g_strescape (name, NULL);

          if (run->error != NULL && *run->error == NULL)
            g_set_error (run->error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                         _("“%s” is not a plain PyTorch state dict: its pickle refers to “%s.%s”, "
                           "which a weights file has no need for, so it was refused (nothing in the "
                           "file was run)."),
                         run->self->display, shown, shown_name);
          return FALSE;
        }
    }
  push (run, v);
  return TRUE;
}

static gboolean
op_global (Run *run)
{
  const guint8 *nl1, *nl2;
  g_autofree char *module = NULL;
  g_autofree char *name = NULL;

  nl1 = memchr (run->data + run->pos, '\n', run->len - run->pos);
  if (nl1 == NULL)
    return need (run, run->len - run->pos + 1);
  nl2 = memchr (nl1 + 1, '\n', run->data + run->len - (nl1 + 1));
  if (nl2 == NULL)
    return need (run, run->len - run->pos + 1);
  module = g_strndup ((const char *) run->data + run->pos, nl1 - (run->data + run->pos));
  name = g_strndup ((const char *) nl1 + 1, nl2 - (nl1 + 1));
  run->pos = nl2 + 1 - run->data;
  return push_global (run, module, name);
}

static gboolean
op_stack_global (Run *run)
{
  BwPickleValue *name = pop (run);
  BwPickleValue *module = name != NULL ? pop (run) : NULL;

  if (module == NULL)
    return FALSE;
  if (name->kind != BW_PV_STR || module->kind != BW_PV_STR)
    return damaged (run, "names a global with something other than strings");
  return push_global (run, module->str.data, name->str.data);
}

/* Evaluating the allowed calls. */

static gboolean
get_dims (Run                 *run,
          const BwPickleValue *t,
          gint64              *out,
          guint               *n_dims)
{
  if (t->kind != BW_PV_TUPLE)
    return damaged (run, "gives a tensor a size or stride that is not a tuple");
  if (t->tuple.n > BW_MAX_DIMS)
    return damaged (run, "gives a tensor %" G_GSIZE_FORMAT " dimensions, more than %d",
                    t->tuple.n, BW_MAX_DIMS);
  for (gsize i = 0; i < t->tuple.n; i++)
    {
      if (t->tuple.items[i]->kind != BW_PV_INT || t->tuple.items[i]->i < 0)
        return damaged (run, "gives a tensor a size or stride that is not a natural number");
      out[i] = t->tuple.items[i]->i;
    }
  *n_dims = t->tuple.n;
  return TRUE;
}

static BwPickleValue *
rebuild_tensor (Run                 *run,
                const BwPickleValue *args,
                gboolean             v2)
{
  BwPickleValue **a = args->tuple.items;
  BwPickleValue *t;
  guint n_stride = 0;

  if (v2 ? (args->tuple.n != 6 && args->tuple.n != 7) : args->tuple.n != 4)
    {
      damaged (run, "rebuilds a tensor from %" G_GSIZE_FORMAT " arguments", args->tuple.n);
      return NULL;
    }
  if (a[0]->kind != BW_PV_STORAGE || a[1]->kind != BW_PV_INT || a[1]->i < 0)
    {
      damaged (run, "rebuilds a tensor from something other than a storage and an offset");
      return NULL;
    }
  /* requires_grad and the (always empty when saved) backward hooks do not matter here */
  if (v2 && (a[4]->kind != BW_PV_BOOL || (a[5]->kind != BW_PV_DICT && a[5]->kind != BW_PV_NONE)))
    {
      damaged (run, "rebuilds a tensor with a requires_grad or hooks argument of the wrong type");
      return NULL;
    }
  t = value_new (run->self, BW_PV_TENSOR);
  t->tensor.storage = a[0];
  if (!get_dims (run, a[2], t->tensor.shape, &t->tensor.n_dims) ||
      !get_dims (run, a[3], t->tensor.stride, &n_stride))
    return NULL;
  if (n_stride != t->tensor.n_dims)
    {
      damaged (run, "gives a tensor %u sizes but %u strides", t->tensor.n_dims, n_stride);
      return NULL;
    }
  if (!g_uint64_checked_add (&t->tensor.offset, a[0]->storage.view_offset, (guint64) a[1]->i))
    {
      damaged (run, "gives a tensor an offset that overflows");
      return NULL;
    }
  return t;
}

static gboolean
op_reduce (Run *run)
{
  BwPickleValue *args = pop (run);
  BwPickleValue *callable = args != NULL ? pop (run) : NULL;
  BwPickleValue *result = NULL;

  if (callable == NULL)
    return FALSE;
  if (callable->kind != BW_PV_GLOBAL)
    return damaged (run, "calls something that is not a global");
  if (args->kind != BW_PV_TUPLE)
    return damaged (run, "calls a global with arguments that are not a tuple");

  switch (callable->global.which)
    {
    case BW_PG_ORDERED_DICT:
      result = value_new (run->self, BW_PV_DICT);
      /* Python 2 pickled OrderedDict ([[key, value], ...]); Python 3 sets items afterwards */
      if (args->tuple.n == 1 && args->tuple.items[0]->kind == BW_PV_LIST)
        {
          GPtrArray *pairs = args->tuple.items[0]->items;

          for (guint i = 0; i < pairs->len; i++)
            {
              const BwPickleValue *pair = g_ptr_array_index (pairs, i);
              BwPickleValue *k, *v;

              if (pair->kind == BW_PV_LIST && pair->items->len == 2)
                k = pair->items->pdata[0], v = pair->items->pdata[1];
              else if (pair->kind == BW_PV_TUPLE && pair->tuple.n == 2)
                k = pair->tuple.items[0], v = pair->tuple.items[1];
              else
                return damaged (run, "builds an OrderedDict from something other than pairs");
              g_ptr_array_add (result->items, k);
              g_ptr_array_add (result->items, v);
            }
        }
      else if (args->tuple.n != 0)
        return damaged (run, "builds an OrderedDict from arguments it cannot take");
      break;
    case BW_PG_REBUILD_TENSOR:
    case BW_PG_REBUILD_TENSOR_V2:
      result = rebuild_tensor (run, args, callable->global.which == BW_PG_REBUILD_TENSOR_V2);
      if (result == NULL)
        return FALSE;
      break;
    case BW_PG_REBUILD_PARAMETER:
      if (args->tuple.n != 3 || args->tuple.items[0]->kind != BW_PV_TENSOR)
        return damaged (run, "rebuilds a parameter from something other than a tensor");
      result = args->tuple.items[0];
      break;
    case BW_PG_STORAGE:
    default:
      return damaged (run, "calls a storage type, which only a persistent id may name");
    }
  push (run, result);
  return TRUE;
}

/* ('storage', torch.FloatStorage, key, location, numel[, view_metadata]) */
static gboolean
op_persistent_id (Run *run)
{
  BwPickleValue *pid = pop (run);
  BwPickleValue **a;
  BwPickleValue *s;
  const char *key;
  g_autofree char *int_key = NULL;

  if (pid == NULL)
    return FALSE;
  if (pid->kind != BW_PV_TUPLE || pid->tuple.n < 5 || pid->tuple.n > 6)
    return damaged (run, "has a persistent id that is not a storage");
  a = pid->tuple.items;
  if (a[0]->kind != BW_PV_STR || !g_str_equal (a[0]->str.data, "storage"))
    return damaged (run, "has a persistent id that is not a storage");
  if (a[1]->kind != BW_PV_GLOBAL || a[1]->global.which != BW_PG_STORAGE)
    return damaged (run, "has a storage whose type is not a torch storage type");
  if (a[2]->kind == BW_PV_STR)
    key = a[2]->str.data;
  else if (a[2]->kind == BW_PV_INT)
    key = int_key = g_strdup_printf ("%" G_GINT64_FORMAT, a[2]->i);
  else
    return damaged (run, "has a storage whose key is not a string");
  if (a[4]->kind != BW_PV_INT || a[4]->i < 0)
    return damaged (run, "has a storage whose size is not a natural number");

  s = value_new (run->self, BW_PV_STORAGE);
  s->storage.dtype = a[1]->global.dtype;
  s->storage.numel = a[4]->i;
  if (int_key != NULL)
    {
      /* keep the string alive with the arena */
      BwPickleValue *k = make_string (run, (const guint8 *) int_key, strlen (int_key), TRUE);
      key = k->str.data;
    }
  s->storage.key = key;

  /* Legacy files may hold views: (view_key, offset, size) into the root storage */
  if (pid->tuple.n == 6 && a[5]->kind != BW_PV_NONE)
    {
      BwPickleValue *view = a[5];
      guint64 end;

      if (view->kind != BW_PV_TUPLE || view->tuple.n != 3 ||
          view->tuple.items[1]->kind != BW_PV_INT || view->tuple.items[1]->i < 0 ||
          view->tuple.items[2]->kind != BW_PV_INT || view->tuple.items[2]->i < 0 ||
          !g_uint64_checked_add (&end, view->tuple.items[1]->i, view->tuple.items[2]->i) ||
          end > s->storage.numel)
        return damaged (run, "has a storage view that does not fit its storage");
      s->storage.view_offset = view->tuple.items[1]->i;
    }

  /* The root storage: the legacy loader steps over every one, by its key, so all mentions
   * of a key must agree on what it holds */
  {
    const BwPickleValue *seen = g_hash_table_lookup (run->self->storages, key);

    if (seen == NULL)
      {
        BwPickleValue *root = value_new (run->self, BW_PV_STORAGE);

        root->storage = s->storage;
        root->storage.view_offset = 0;
        g_hash_table_insert (run->self->storages, (char *) key, root);
      }
    else if (seen->storage.dtype != s->storage.dtype || seen->storage.numel != s->storage.numel)
      return damaged (run, "gives storage “%s” two different types or sizes", key);
  }
  push (run, s);
  return TRUE;
}

static gboolean
op_build (Run *run)
{
  BwPickleValue *state = pop (run);
  BwPickleValue *obj = state != NULL ? top (run) : NULL;

  if (obj == NULL)
    return FALSE;
  /* An OrderedDict's __dict__: a state dict's _metadata, which we do not need */
  if (obj->kind == BW_PV_DICT && (state->kind == BW_PV_DICT || state->kind == BW_PV_NONE))
    return TRUE;
  return damaged (run, "sets the state of something that is not a dict");
}

static gboolean
op_set_items (Run   *run,
              gsize  start)
{
  BwPickleValue *dict;
  gsize n = run->stack->len - start;

  if (n % 2 != 0)
    return damaged (run, "sets a key without a value");
  if (start == stack_floor (run))
    return damaged (run, "sets items with no dict to set them in");
  dict = g_ptr_array_index (run->stack, start - 1);
  if (dict->kind != BW_PV_DICT)
    return damaged (run, "sets items in something that is not a dict");
  for (gsize i = start; i < run->stack->len; i++)
    g_ptr_array_add (dict->items, g_ptr_array_index (run->stack, i));
  g_ptr_array_set_size (run->stack, start);
  return TRUE;
}

static gboolean
op_append_items (Run   *run,
                 gsize  start)
{
  BwPickleValue *list;

  if (start == stack_floor (run))
    return damaged (run, "appends with no list to append to");
  list = g_ptr_array_index (run->stack, start - 1);
  if (list->kind != BW_PV_LIST)
    return damaged (run, "appends to something that is not a list");
  for (gsize i = start; i < run->stack->len; i++)
    g_ptr_array_add (list->items, g_ptr_array_index (run->stack, i));
  g_ptr_array_set_size (run->stack, start);
  return TRUE;
}

static gboolean
op_memo_put (Run     *run,
             guint64  index)
{
  BwPickleValue *v = top (run);

  if (v == NULL)
    return FALSE;
  g_hash_table_insert (run->memo, GSIZE_TO_POINTER ((gsize) index), v);
  return TRUE;
}

static gboolean
op_memo_get (Run     *run,
             guint64  index)
{
  BwPickleValue *v = g_hash_table_lookup (run->memo, GSIZE_TO_POINTER ((gsize) index));

  if (v == NULL)
    return damaged (run, "reads memo entry %" G_GUINT64_FORMAT ", which it never stored", index);
  push (run, v);
  return TRUE;
}

static gboolean
step (Run      *run,
      gboolean *stop)
{
  guint8 op;
  gsize start;

  run->op_pos = run->pos;
  if (!need (run, 1))
    return FALSE;
  op = run->data[run->pos++];

  switch (op)
    {
    case 0x80:   /* PROTO */
      if (!need (run, 1))
        return FALSE;
      if (run->data[run->pos] > 5)
        return damaged (run, "uses protocol %u, which does not exist", run->data[run->pos]);
      run->pos++;
      return TRUE;
    case 0x95:   /* FRAME: frames only group opcodes; their length does not matter here */
      if (!need (run, 8))
        return FALSE;
      run->pos += 8;
      return TRUE;
    case '.':    /* STOP */
      if (run->marks->len != 0 || run->stack->len != 1)
        return damaged (run, "stops with %u values and %u marks left", run->stack->len,
                        run->marks->len);
      *stop = TRUE;
      return TRUE;
    case '(':    /* MARK */
      start = run->stack->len;
      g_array_append_val (run->marks, start);
      return TRUE;
    case ')':    /* EMPTY_TUPLE */
      push (run, make_tuple (run, run->stack->len));
      return TRUE;
    case ']':    /* EMPTY_LIST */
      push (run, value_new (run->self, BW_PV_LIST));
      return TRUE;
    case '}':    /* EMPTY_DICT */
      push (run, value_new (run->self, BW_PV_DICT));
      return TRUE;
    case 't':    /* TUPLE */
      if (!pop_mark (run, &start))
        return FALSE;
      push (run, make_tuple (run, start));
      return TRUE;
    case 0x85:   /* TUPLE1 */
    case 0x86:   /* TUPLE2 */
    case 0x87:   /* TUPLE3 */
      {
        gsize n = op - 0x84;

        if (run->stack->len - stack_floor (run) < n)
          return damaged (run, "builds a tuple from fewer values than it needs");
        push (run, make_tuple (run, run->stack->len - n));
        return TRUE;
      }
    case 'l':    /* LIST */
    case 'd':    /* DICT */
      {
        BwPickleValue *v;

        if (!pop_mark (run, &start))
          return FALSE;
        if (op == 'd' && (run->stack->len - start) % 2 != 0)
          return damaged (run, "builds a dict with a key that has no value");
        v = value_new (run->self, op == 'l' ? BW_PV_LIST : BW_PV_DICT);
        for (gsize i = start; i < run->stack->len; i++)
          g_ptr_array_add (v->items, g_ptr_array_index (run->stack, i));
        g_ptr_array_set_size (run->stack, start);
        push (run, v);
        return TRUE;
      }
    case 'a':    /* APPEND */
      if (run->stack->len <= stack_floor (run))
        return damaged (run, "appends nothing");
      return op_append_items (run, run->stack->len - 1);
    case 'e':    /* APPENDS */
      return pop_mark (run, &start) && op_append_items (run, start);
    case 's':    /* SETITEM */
      if (run->stack->len < stack_floor (run) + 2)
        return damaged (run, "sets an item without a key and value");
      return op_set_items (run, run->stack->len - 2);
    case 'u':    /* SETITEMS */
      return pop_mark (run, &start) && op_set_items (run, start);
    case 'N':    /* NONE */
      push (run, value_new (run->self, BW_PV_NONE));
      return TRUE;
    case 0x88:   /* NEWTRUE */
    case 0x89:   /* NEWFALSE */
      {
        BwPickleValue *v = value_new (run->self, BW_PV_BOOL);

        v->b = op == 0x88;
        push (run, v);
        return TRUE;
      }
    case 'J':    /* BININT */
    case 'K':    /* BININT1 */
    case 'M':    /* BININT2 */
      {
        guint n = op == 'J' ? 4 : op == 'K' ? 1 : 2;
        BwPickleValue *v;

        if (!need (run, n))
          return FALSE;
        v = value_new (run->self, BW_PV_INT);
        v->i = op == 'J' ? (gint64) (gint32) (guint32) read_le (run, 4) : (gint64) read_le (run, n);
        push (run, v);
        return TRUE;
      }
    case 0x8a:   /* LONG1 */
      return op_long (run, 1);
    case 0x8b:   /* LONG4 */
      return op_long (run, 4);
    case 'G':    /* BINFLOAT: big-endian */
      {
        guint64 bits = 0;
        BwPickleValue *v;

        if (!need (run, 8))
          return FALSE;
        for (int i = 0; i < 8; i++)
          bits = bits << 8 | run->data[run->pos++];
        v = value_new (run->self, BW_PV_FLOAT);
        memcpy (&v->f, &bits, sizeof v->f);
        push (run, v);
        return TRUE;
      }
    case 'X':    /* BINUNICODE */
      return op_string (run, 4, FALSE, 0);
    case 0x8c:   /* SHORT_BINUNICODE */
      return op_string (run, 1, FALSE, 0);
    case 0x8d:   /* BINUNICODE8 */
      return op_string (run, 8, FALSE, 0);
    case 'T':    /* BINSTRING (Python 2 str) */
      return op_string (run, 4, TRUE, 1);
    case 'U':    /* SHORT_BINSTRING */
      return op_string (run, 1, FALSE, 1);
    case 'B':    /* BINBYTES */
      return op_string (run, 4, FALSE, 2);
    case 'C':    /* SHORT_BINBYTES */
      return op_string (run, 1, FALSE, 2);
    case 0x8e:   /* BINBYTES8 */
      return op_string (run, 8, FALSE, 2);
    case 'c':    /* GLOBAL */
      return op_global (run);
    case 0x93:   /* STACK_GLOBAL */
      return op_stack_global (run);
    case 'q':    /* BINPUT */
      return need (run, 1) && op_memo_put (run, read_le (run, 1));
    case 'r':    /* LONG_BINPUT */
      return need (run, 4) && op_memo_put (run, read_le (run, 4));
    case 0x94:   /* MEMOIZE */
      return op_memo_put (run, g_hash_table_size (run->memo));
    case 'h':    /* BINGET */
      return need (run, 1) && op_memo_get (run, read_le (run, 1));
    case 'j':    /* LONG_BINGET */
      return need (run, 4) && op_memo_get (run, read_le (run, 4));
    case 'R':    /* REDUCE */
      return op_reduce (run);
    case 'b':    /* BUILD */
      return op_build (run);
    case 'Q':    /* BINPERSID */
      return op_persistent_id (run);
    case '0':    /* POP */
      return pop (run) != NULL;
    case '1':    /* POP_MARK */
      if (!pop_mark (run, &start))
        return FALSE;
      g_ptr_array_set_size (run->stack, start);
      return TRUE;
    case '2':    /* DUP */
      {
        BwPickleValue *v = top (run);

        if (v == NULL)
          return FALSE;
        push (run, v);
        return TRUE;
      }
    default:
      return damaged (run, "uses opcode 0x%02x, which a saved state dict never needs", op);
    }
}

const BwPickleValue *
bw_pickle_run (BwPickle      *self,
               const guint8  *data,
               gsize          len,
               gsize         *used,
               gboolean      *short_input,
               GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  g_autoptr(GArray) marks = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr(GHashTable) memo = g_hash_table_new (NULL, NULL);
  Run run = {
    .self = self, .data = data, .len = len,
    .stack = stack, .marks = marks, .memo = memo, .error = &local_error,
  };
  gboolean stop = FALSE;

  if (short_input != NULL)
    *short_input = FALSE;
  while (!stop)
    if (!step (&run, &stop))
      {
        if (short_input != NULL)
          *short_input = run.short_input;
        g_propagate_error (error, g_steal_pointer (&local_error));
        return NULL;
      }
  if (used != NULL)
    *used = run.pos;
  return g_ptr_array_index (stack, 0);
}

/* Reading the result. */

static const BwPickleValue *
dict_get (const BwPickleValue *dict,
          const char          *key)
{
  const BwPickleValue *found = NULL;

  for (guint i = 0; i + 1 < dict->items->len; i += 2)
    {
      const BwPickleValue *k = g_ptr_array_index (dict->items, i);

      if (k->kind == BW_PV_STR && g_str_equal (k->str.data, key))
        found = g_ptr_array_index (dict->items, i + 1);
    }
  return found;
}

gboolean
bw_pickle_collect_tensors (BwPickle            *self,
                           const BwPickleValue *root,
                           BwSelect             select,
                           GPtrArray           *refs,
                           GPtrArray           *storage_keys,
                           GError             **error)
{
  const BwPickleValue *nested;

  if (root->kind != BW_PV_DICT)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK,
                   _("“%s” does not hold a state dict: its pickle holds something other than a dict."),
                   self->display);
      return FALSE;
    }

  /* A training checkpoint: {"state_dict": {...}, "epoch": ...} */
  nested = dict_get (root, "state_dict");
  if (nested != NULL && nested->kind == BW_PV_DICT)
    root = nested;

  for (guint i = 0; i + 1 < root->items->len; i += 2)
    {
      const BwPickleValue *k = g_ptr_array_index (root->items, i);
      const BwPickleValue *v = g_ptr_array_index (root->items, i + 1);
      const BwPickleValue *storage;
      BwTensorRef *ref;
      char *name;

      if (k->kind != BW_PV_STR || v->kind != BW_PV_TENSOR)
        continue;
      storage = v->tensor.storage;
      if (select == BW_SELECT_ALL && !bw_dtype_is_float (storage->storage.dtype))
        continue;
      name = bw_weights_wanted_name (select, k->str.data);
      if (name == NULL)
        continue;

      ref = g_new0 (BwTensorRef, 1);
      ref->name = name;
      ref->dtype = storage->storage.dtype;
      ref->storage_numel = storage->storage.numel;
      ref->offset = v->tensor.offset;
      ref->n_dims = v->tensor.n_dims;
      memcpy (ref->shape, v->tensor.shape, sizeof ref->shape);
      memcpy (ref->stride, v->tensor.stride, sizeof ref->stride);
      g_ptr_array_add (refs, ref);
      g_ptr_array_add (storage_keys, g_strdup (storage->storage.key));
    }
  return TRUE;
}
