/* bw-safetensors.c: locating tensors in a .safetensors file.
 *
 * Layout: 8-byte little-endian header length, a JSON header
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
 * then the data, offsets relative to its start. __metadata__'s "convention" says which input
 * the network expects (bw-weights.h). The header has a fixed shape, so it is parsed
 * by hand with a bounded nesting depth: no JSON library recursion for a hostile header to
 * exhaust, and every number is checked against the file before it is used.
 */
#include "bw-weights-private.h"

#include <string.h>
#include "bw-i18n.h"

/* The safetensors library refuses larger headers too */
#define MAX_HEADER (100 * 1024 * 1024)
#define MAX_DEPTH 32

typedef struct {
  BwSource *src;
  const char *start;
  const char *p;
  const char *end;
  GError **error;
} Json;

G_GNUC_PRINTF (2, 3)
static gboolean
bad (Json       *j,
     const char *format,
     ...)
{
  va_list args;
  g_autofree char *what = NULL;

  if (j->error != NULL && *j->error != NULL)
    return FALSE;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (j->error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
               "“%s” is damaged: its safetensors header %s (at byte %" G_GSIZE_FORMAT ").",
               j->src->display, what, (gsize) (j->p - j->start) + 8);
  return FALSE;
}

static void
skip_ws (Json *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static gboolean
peek (Json *j,
      char  c)
{
  skip_ws (j);
  return j->p < j->end && *j->p == c;
}

static gboolean
expect (Json *j,
        char  c)
{
  if (!peek (j, c))
    return bad (j, "lacks a “%c” where one belongs", c);
  j->p++;
  return TRUE;
}

static int
hex_digit (char c)
{
  return g_ascii_xdigit_value (c);
}

static gboolean
read_hex4 (Json     *j,
           gunichar *out)
{
  gunichar v = 0;

  if (j->end - j->p < 4)
    return bad (j, "ends inside a \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int d = hex_digit (j->p[i]);

      if (d < 0)
        return bad (j, "has a bad \\u escape");
      v = v << 4 | d;
    }
  j->p += 4;
  *out = v;
  return TRUE;
}

/* A JSON string, as UTF-8; NULL on error. */
static char *
parse_string (Json *j)
{
  g_autoptr(GString) s = NULL;

  if (!expect (j, '"'))
    return NULL;
  s = g_string_new (NULL);
  while (TRUE)
    {
      char c;

      if (j->p >= j->end)
        {
          bad (j, "ends inside a string");
          return NULL;
        }
      c = *j->p++;
      if (c == '"')
        break;
      if ((guchar) c < 0x20)
        {
          bad (j, "has a control character in a string");
          return NULL;
        }
      if (c != '\\')
        {
          g_string_append_c (s, c);
          continue;
        }
      if (j->p >= j->end)
        {
          bad (j, "ends inside a string");
          return NULL;
        }
      c = *j->p++;
      switch (c)
        {
        case '"': case '\\': case '/':
          g_string_append_c (s, c);
          break;
        case 'b': g_string_append_c (s, '\b'); break;
        case 'f': g_string_append_c (s, '\f'); break;
        case 'n': g_string_append_c (s, '\n'); break;
        case 'r': g_string_append_c (s, '\r'); break;
        case 't': g_string_append_c (s, '\t'); break;
        case 'u':
          {
            gunichar u, lo;

            if (!read_hex4 (j, &u))
              return NULL;
            if (u >= 0xd800 && u < 0xdc00)
              {
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                  {
                    bad (j, "has an unpaired surrogate");
                    return NULL;
                  }
                j->p += 2;
                if (!read_hex4 (j, &lo))
                  return NULL;
                if (lo < 0xdc00 || lo >= 0xe000)
                  {
                    bad (j, "has an unpaired surrogate");
                    return NULL;
                  }
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
              }
            else if (u >= 0xdc00 && u < 0xe000)
              {
                bad (j, "has an unpaired surrogate");
                return NULL;
              }
            if (u == 0)
              {
                bad (j, "has a NUL in a string");
                return NULL;
              }
            g_string_append_unichar (s, u);
            break;
          }
        default:
          bad (j, "has a bad escape in a string");
          return NULL;
        }
    }
  if (!g_utf8_validate_len (s->str, s->len, NULL) || strlen (s->str) != s->len)
    {
      bad (j, "has a string that is not UTF-8");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
parse_uint (Json    *j,
            guint64 *out)
{
  guint64 v = 0;

  skip_ws (j);
  if (j->p >= j->end || !g_ascii_isdigit (*j->p))
    return bad (j, "has something other than a natural number where one belongs");
  while (j->p < j->end && g_ascii_isdigit (*j->p))
    {
      if (!g_uint64_checked_mul (&v, v, 10) || !g_uint64_checked_add (&v, v, *j->p - '0'))
        return bad (j, "has a number too large");
      j->p++;
    }
  if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
    return bad (j, "has a fraction where a natural number belongs");
  *out = v;
  return TRUE;
}

static gboolean
skip_value (Json *j,
            int   depth)
{
  if (depth > MAX_DEPTH)
    return bad (j, "nests deeper than %d", MAX_DEPTH);
  skip_ws (j);
  if (j->p >= j->end)
    return bad (j, "ends where a value belongs");
  switch (*j->p)
    {
    case '"':
      {
        g_autofree char *s = parse_string (j);

        return s != NULL;
      }
    case '{':
    case '[':
      {
        char close = *j->p == '{' ? '}' : ']';
        gboolean object = close == '}';

        j->p++;
        if (peek (j, close))
          {
            j->p++;
            return TRUE;
          }
        while (TRUE)
          {
            if (object)
              {
                g_autofree char *key = parse_string (j);

                if (key == NULL || !expect (j, ':'))
                  return FALSE;
              }
            if (!skip_value (j, depth + 1))
              return FALSE;
            if (peek (j, close))
              {
                j->p++;
                return TRUE;
              }
            if (!expect (j, ','))
              return FALSE;
          }
      }
    default:
      {
        const char *begin = j->p;

        /* numbers and true/false/null; their exact syntax does not matter when skipped */
        while (j->p < j->end && (g_ascii_isalnum (*j->p) || *j->p == '-' || *j->p == '+' ||
                                 *j->p == '.'))
          j->p++;
        if (j->p == begin)
          return bad (j, "has a stray “%c”", *j->p);
        return TRUE;
      }
    }
}

static gboolean
dtype_from_name (const char *name,
                 BwDtype    *dtype)
{
  static const struct {
    const char *name;
    BwDtype dtype;
  } dtypes[] = {
    { "F32", BW_DTYPE_F32 }, { "F16", BW_DTYPE_F16 }, { "BF16", BW_DTYPE_BF16 },
    { "F64", BW_DTYPE_F64 }, { "I64", BW_DTYPE_I64 }, { "I32", BW_DTYPE_I32 },
    { "I16", BW_DTYPE_I16 }, { "I8", BW_DTYPE_I8 }, { "U8", BW_DTYPE_U8 },
    { "BOOL", BW_DTYPE_BOOL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (g_str_equal (name, dtypes[i].name))
      {
        *dtype = dtypes[i].dtype;
        return TRUE;
      }
  return FALSE;
}

/* {"dtype": .., "shape": [..], "data_offsets": [b, e]}: checks it against the data and, when
 * wanted, appends a ref. */
static gboolean
parse_entry (Json       *j,
             const char *key,
             BwSelect    select,
             guint64     data_start,
             GPtrArray  *refs)
{
  g_autofree char *dtype_name = NULL;
  g_autoptr(BwTensorRef) ref = g_new0 (BwTensorRef, 1);
  gboolean have_shape = FALSE, have_offsets = FALSE, known;
  guint64 begin = 0, end = 0, numel = 1, bytes;
  guint64 data_size = j->src->size - data_start;
  BwDtype dtype = BW_DTYPE_F32;
  g_autofree char *name = NULL;

  if (!expect (j, '{'))
    return FALSE;
  while (!peek (j, '}'))
    {
      g_autofree char *field = parse_string (j);

      if (field == NULL || !expect (j, ':'))
        return FALSE;
      if (g_str_equal (field, "dtype"))
        {
          g_free (dtype_name);
          dtype_name = parse_string (j);
          if (dtype_name == NULL)
            return FALSE;
        }
      else if (g_str_equal (field, "shape"))
        {
          if (!expect (j, '['))
            return FALSE;
          ref->n_dims = 0;
          while (!peek (j, ']'))
            {
              guint64 d;

              if (ref->n_dims > 0 && !expect (j, ','))
                return FALSE;
              if (ref->n_dims == BW_MAX_DIMS)
                return bad (j, "gives tensor %s more than %d dimensions", key, BW_MAX_DIMS);
              if (!parse_uint (j, &d))
                return FALSE;
              if (d > (guint64) G_MAXINT64)
                return bad (j, "gives tensor %s a dimension too large", key);
              ref->shape[ref->n_dims++] = d;
            }
          j->p++;
          have_shape = TRUE;
        }
      else if (g_str_equal (field, "data_offsets"))
        {
          if (!expect (j, '[') || !parse_uint (j, &begin) || !expect (j, ',') ||
              !parse_uint (j, &end) || !expect (j, ']'))
            return FALSE;
          have_offsets = TRUE;
        }
      else if (!skip_value (j, 2))
        return FALSE;
      if (!peek (j, '}') && !expect (j, ','))
        return FALSE;
    }
  j->p++;

  if (dtype_name == NULL || !have_shape || !have_offsets)
    return bad (j, "lacks the dtype, shape or data_offsets of tensor %s", key);
  if (begin > end)
    return bad (j, "gives tensor %s data that ends before it starts", key);
  if (end > data_size)
    {
      g_autofree char *what = g_strdup_printf ("tensor %s", key);

      bw_set_truncated_error (j->error, j->src, what, end - begin, data_start + begin);
      return FALSE;
    }

  known = dtype_from_name (dtype_name, &dtype);
  name = bw_weights_wanted_name (select, key);
  if (name == NULL || (select == BW_SELECT_ALL && (!known || !bw_dtype_is_float (dtype))))
    return TRUE;   /* not wanted: its data is never looked at */
  if (!known || !bw_dtype_is_float (dtype))
    {
      g_set_error (j->error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK,
                   _("In “%s”, tensor %s has dtype %s; only F32, F16, BF16 and F64 can be read."),
                   j->src->display, key, dtype_name);
      return FALSE;
    }

  for (guint i = 0; i < ref->n_dims; i++)
    if (!g_uint64_checked_mul (&numel, numel, ref->shape[i]))
      return bad (j, "gives tensor %s too many elements", key);
  if (!g_uint64_checked_mul (&bytes, numel, bw_dtype_size (dtype)) || bytes != end - begin)
    return bad (j, "gives tensor %s %" G_GUINT64_FORMAT " bytes of data where its shape needs %"
                G_GUINT64_FORMAT, key, end - begin, bytes);

  ref->name = g_steal_pointer (&name);
  ref->dtype = dtype;
  ref->file_offset = data_start + begin;
  ref->storage_numel = numel;
  ref->offset = 0;
  bw_tensor_ref_set_contiguous (ref);
  g_ptr_array_add (refs, g_steal_pointer (&ref));
  return TRUE;
}

/* {"convention": "caffe", ...}: the spec makes every value a string; only "convention" is
 * read, the rest skipped whatever it holds. A second __metadata__ replaces the first, as
 * Python's json would, so one without a convention means torchvision's. */
static gboolean
parse_metadata (Json                *j,
                BwWeightsConvention *convention)
{
  BwWeightsConvention found = BW_WEIGHTS_CONVENTION_TORCHVISION;

  if (!expect (j, '{'))
    return FALSE;
  while (!peek (j, '}'))
    {
      g_autofree char *field = parse_string (j);

      if (field == NULL || !expect (j, ':'))
        return FALSE;
      if (g_str_equal (field, "convention"))
        {
          g_autofree char *value = NULL;

          if (!peek (j, '"'))
            return bad (j, "gives a “convention” that is not a string");
          value = parse_string (j);
          if (value == NULL)
            return FALSE;
          if (!bw_weights_convention_from_string (value, &found))
            {
              g_set_error (j->error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_NETWORK,
                           "“%s” says its network expects input in the “%s” convention, which "
                           "Brushwork does not know: it knows “torchvision” and “caffe”. Correct "
                           "the file's __metadata__ entry “convention”.",
                           j->src->display, value);
              return FALSE;
            }
        }
      else if (!skip_value (j, 2))
        return FALSE;
      if (!peek (j, '}') && !expect (j, ','))
        return FALSE;
    }
  j->p++;
  *convention = found;
  return TRUE;
}

gboolean
bw_safetensors_locate (BwSource            *src,
                       BwSelect             select,
                       GPtrArray           *refs,
                       BwWeightsConvention *convention,
                       GError             **error)
{
  guint8 len_le[8];
  guint64 header_len = 0;
  g_autofree char *header = NULL;
  Json j = { .src = src, .error = error };

  if (src->size < 8)
    {
      bw_set_truncated_error (error, src, "its header length", 8, 0);
      return FALSE;
    }
  if (!bw_source_read (src, 0, 8, len_le, error))
    return FALSE;
  for (int i = 0; i < 8; i++)
    header_len |= (guint64) len_le[i] << (8 * i);
  if (header_len > src->size - 8)
    {
      bw_set_truncated_error (error, src, "its safetensors header", header_len, 8);
      return FALSE;
    }
  if (header_len > MAX_HEADER)
    {
      g_set_error (error, BW_WEIGHTS_ERROR, BW_WEIGHTS_ERROR_FORMAT,
                   "“%s” is damaged: its safetensors header claims %" G_GUINT64_FORMAT
                   " bytes, more than any such file has.", src->display, header_len);
      return FALSE;
    }
  header = (char *) bw_source_dup (src, 8, header_len, error);
  if (header == NULL)
    return FALSE;

  j.start = j.p = header;
  j.end = header + header_len;
  if (!expect (&j, '{'))
    return FALSE;
  while (!peek (&j, '}'))
    {
      g_autofree char *key = parse_string (&j);

      if (key == NULL || !expect (&j, ':'))
        return FALSE;
      if (g_str_equal (key, "__metadata__"))
        {
          /* an object, as the spec has it; anything else is skipped as before, since no
           * convention can be read from it */
          if (peek (&j, '{') ? !parse_metadata (&j, convention) : !skip_value (&j, 1))
            return FALSE;
        }
      else if (!parse_entry (&j, key, select, 8 + header_len, refs))
        return FALSE;
      if (!peek (&j, '}') && !expect (&j, ','))
        return FALSE;
    }
  j.p++;
  skip_ws (&j);   /* the spec pads with spaces */
  if (j.p != j.end)
    return bad (&j, "has something after its end");
  return TRUE;
}
