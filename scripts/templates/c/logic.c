#include "logic.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

const char *count_words(const char *text, size_t len, word_counts *out) {
  out->words = 0;
  out->longest = NULL;
  out->longest_len = 0;
  size_t i = 0;
  while (i < len) {
    while (i < len && is_space(text[i])) i++;
    size_t start = i;
    while (i < len && !is_space(text[i])) i++;
    if (i > start) {
      out->words++;
      if (i - start > out->longest_len) {
        out->longest = text + start;
        out->longest_len = i - start;
      }
    }
  }
  return out->words == 0 ? "`text` is empty" : NULL;
}

/* A small JSON reader: enough to take string members out of an object. */
typedef struct {
  const char *p, *end;
} reader;

static void skip_ws(reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int hex4(reader *r, uint32_t *out) {
  if (r->end - r->p < 4) return 0;
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) {
    char c = *r->p++;
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (char)(0x80 | (cp >> 6 & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Reads a JSON string at r->p (its opening quote); when `out` is not NULL, writes it unescaped
 * there (it needs at most as many bytes as the escaped text). Returns the unescaped length, or
 * (size_t)-1 when malformed. */
static size_t read_string(reader *r, char *out) {
  if (r->p >= r->end || *r->p != '"') return (size_t)-1;
  r->p++;
  size_t n = 0;
  while (r->p < r->end) {
    char c = *r->p++;
    if (c == '"') return n;
    if ((unsigned char)c < 0x20) return (size_t)-1;
    if (c != '\\') {
      if (out) out[n] = c;
      n++;
      continue;
    }
    if (r->p >= r->end) return (size_t)-1;
    char e = *r->p++;
    char plain = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
    if (e == 'u') {
      uint32_t cp;
      if (!hex4(r, &cp)) return (size_t)-1;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return (size_t)-1; /* a lone low surrogate */
      if (cp >= 0xD800 && cp < 0xDC00) {
        uint32_t low;
        if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u') return (size_t)-1;
        r->p += 2;
        if (!hex4(r, &low) || low < 0xDC00 || low > 0xDFFF) return (size_t)-1;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      }
      char buf[4];
      size_t k = put_utf8(buf, cp);
      if (out) memcpy(out + n, buf, k);
      n += k;
    } else if (e != '\0' && strchr("\"\\/bfnrt", e)) {
      if (out) out[n] = plain;
      n++;
    } else {
      return (size_t)-1;
    }
  }
  return (size_t)-1;
}

/* Skips one JSON value (nested containers counted by depth; strings read properly). */
static int skip_value(reader *r) {
  int depth = 0;
  do {
    skip_ws(r);
    if (r->p >= r->end) return 0;
    char c = *r->p;
    if (c == '"') {
      if (read_string(r, NULL) == (size_t)-1) return 0;
    } else if (c == '{' || c == '[') {
      depth++;
      r->p++;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return 0;
      depth--;
      r->p++;
    } else if (c == ',' || c == ':') {
      if (depth == 0) return 0;
      r->p++;
    } else {
      if (*r->p == '\0') return 0;
      while (r->p < r->end && *r->p != '\0' && !strchr(",:]} \t\n\r", *r->p)) r->p++;
    }
  } while (depth > 0);
  return 1;
}

char *json_string_member(const char *json, size_t len, const char *key, size_t *out_len) {
  reader r = {json, json + len};
  skip_ws(&r);
  if (r.p >= r.end || *r.p++ != '{') return NULL;
  size_t key_len = strlen(key);
  for (;;) {
    skip_ws(&r);
    if (r.p < r.end && *r.p == '}') return NULL;
    reader at = r;
    size_t n = read_string(&r, NULL);
    if (n == (size_t)-1) return NULL;
    char *name = malloc(n + 1);
    if (!name) return NULL;
    read_string(&at, name);
    int match = n == key_len && memcmp(name, key, n) == 0;
    free(name);
    skip_ws(&r);
    if (r.p >= r.end || *r.p++ != ':') return NULL;
    skip_ws(&r);
    if (match) {
      if (r.p >= r.end || *r.p != '"') return NULL;
      reader value = r;
      size_t m = read_string(&r, NULL);
      if (m == (size_t)-1) return NULL;
      char *out = malloc(m + 1);
      if (!out) return NULL;
      read_string(&value, out);
      out[m] = '\0';
      *out_len = m;
      return out;
    }
    if (!skip_value(&r)) return NULL;
    skip_ws(&r);
    if (r.p < r.end && *r.p == ',') r.p++;
    else if (r.p < r.end && *r.p == '}') return NULL;
    else return NULL;
  }
}

char *json_quote(const char *s, size_t len) {
  char *out = malloc(len * 6 + 3);
  if (!out) return NULL;
  size_t n = 0;
  out[n++] = '"';
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, 7, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  out[n++] = '"';
  out[n] = '\0';
  return out;
}
