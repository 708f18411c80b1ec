/* The logic's tests, natively: cc -o test_logic test_logic.c logic.c && ./test_logic */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logic.h"

static void counts_words_and_finds_the_longest(void) {
  const char *text = "the quick brown fox";
  word_counts c;
  assert(count_words(text, strlen(text), &c) == NULL);
  assert(c.words == 4);
  assert(c.longest_len == 5 && memcmp(c.longest, "quick", 5) == 0);
}

static void empty_text_is_an_error(void) {
  word_counts c;
  assert(count_words("  \n ", 4, &c) != NULL);
}

static void reads_string_members(void) {
  const char *json = "{\"n\": [1, {\"text\": 2}], \"text\": \"a\\\"b \\u00e9\\n\"}";
  size_t len = 0;
  char *text = json_string_member(json, strlen(json), "text", &len);
  assert(text && len == 7 && strcmp(text, "a\"b \xc3\xa9\n") == 0);
  free(text);
  assert(json_string_member(json, strlen(json), "missing", &len) == NULL);
  assert(json_string_member("{\"text\": 3}", 11, "text", &len) == NULL);
}

static void quotes_strings(void) {
  char *q = json_quote("a\"\\\n", 4);
  assert(q && strcmp(q, "\"a\\\"\\\\\\u000a\"") == 0);
  free(q);
}

int main(void) {
  counts_words_and_finds_the_longest();
  empty_text_is_an_error();
  reads_string_members();
  quotes_strings();
  puts("ok: 4 tests");
  return 0;
}
