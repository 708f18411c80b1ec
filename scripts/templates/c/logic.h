/* The logic of the tool: plain C, tested natively (cc -o test_logic test_logic.c logic.c). */
#ifndef LOGIC_H
#define LOGIC_H

#include <stddef.h>

typedef struct {
  size_t words;
  const char *longest; /* points into the counted text */
  size_t longest_len;
} word_counts;

/* Counts the words of `text` (`len` bytes) and finds the longest (the first, on a tie).
 * Returns NULL, or the message of the error the model should see. */
const char *count_words(const char *text, size_t len, word_counts *out);

/* The string value of the top-level member `key` of the JSON object `json` (`len` bytes),
 * unescaped into a new NUL-terminated buffer (its length in *out_len), or NULL when the member
 * is missing, not a string, or the JSON is malformed. Free it with free(). */
char *json_string_member(const char *json, size_t len, const char *key, size_t *out_len);

/* `s` (`len` bytes of UTF-8) as a quoted JSON string in a new NUL-terminated buffer, or NULL
 * when out of memory. Free it with free(). */
char *json_quote(const char *s, size_t len);

#endif
