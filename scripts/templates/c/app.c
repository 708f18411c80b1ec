/* `@TOOL@`: an ide-agents-mcp tool component in C (wit-bindgen c).
 *
 * It implements the WIT interface `ide-agents:tool/tools` (wit/tools.wit): `describe` lists the
 * tool with its JSON Schemas, `call` runs it. The server checks the arguments against the input
 * schema before `call` and the structured output against the output schema after it. A failure
 * is returned as a tool error with its message (`return false` with `err` set), never a trap.
 * It uses one host import, `log`.
 *
 * Ownership (wit-bindgen c): the strings `call` receives are the callee's to free; everything
 * returned must be heap-allocated (tool_string_dup, malloc): the generated post-return frees it
 * after the host has read it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/tool.h"
#include "logic.h"

#define NAME "@TOOL@"

static const char INPUT_SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"description\":\"The text to count the words "
    "of.\"}},\"required\":[\"text\"],\"additionalProperties\":false}";
static const char OUTPUT_SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"words\":{\"type\":\"integer\"},\"longest\":{\"type\":\"string\"}},"
    "\"required\":[\"words\",\"longest\"]}";

static tool_option_string_t some(const char *s) {
  tool_option_string_t o = {.is_some = true};
  tool_string_dup(&o.val, s);
  return o;
}

static tool_option_bool_t flag(bool value) { return (tool_option_bool_t){.is_some = true, .val = value}; }

void exports_ide_agents_tool_tools_describe(exports_ide_agents_tool_tools_list_tool_descriptor_t *ret) {
  exports_ide_agents_tool_tools_tool_descriptor_t *d = calloc(1, sizeof *d);
  tool_string_dup(&d->name, NAME);
  tool_string_dup(&d->description, "Counts the words of `text` and names the longest.");
  tool_string_dup(&d->input_schema, INPUT_SCHEMA);
  d->output_schema = some(OUTPUT_SCHEMA);
  d->annotations.read_only = flag(true);
  d->annotations.idempotent = flag(true);
  d->annotations.open_world = flag(false);
  ret->ptr = d;
  ret->len = 1;
}

/* Sets `err` to a tool error of kind `tag` with `message`; returns false (the error case). */
static bool fail(exports_ide_agents_tool_tools_tool_error_t *err, uint8_t tag, const char *message) {
  err->tag = tag;
  tool_string_dup(&err->val.failed, message); /* every case carries a string in the same place */
  return false;
}

bool exports_ide_agents_tool_tools_call(tool_string_t *name, tool_string_t *arguments,
                                        exports_ide_agents_tool_tools_call_result_t *ret,
                                        exports_ide_agents_tool_tools_tool_error_t *err) {
  bool known = name->len == strlen(NAME) && memcmp(name->ptr, NAME, name->len) == 0;
  size_t len = 0;
  char *text = known ? json_string_member((const char *)arguments->ptr, arguments->len, "text", &len) : NULL;
  tool_string_free(arguments);
  if (!known) {
    err->tag = IDE_AGENTS_TOOL_TYPES_TOOL_ERROR_UNKNOWN_TOOL;
    err->val.unknown_tool = *name; /* hand the received string back: it is freed after the call */
    return false;
  }
  tool_string_free(name);
  if (!text) return fail(err, IDE_AGENTS_TOOL_TYPES_TOOL_ERROR_INVALID_ARGUMENTS, "`text` must be a string");

  word_counts counts;
  const char *problem = count_words(text, len, &counts);
  if (problem) {
    free(text);
    char message[160];
    snprintf(message, sizeof message, "Error: %s", problem);
    return fail(err, IDE_AGENTS_TOOL_TYPES_TOOL_ERROR_FAILED, message);
  }
  char *longest = json_quote(counts.longest, counts.longest_len);
  size_t size = strlen(longest) * 2 + 64;
  char *structured = malloc(size);
  char *summary = malloc(size);
  snprintf(structured, size, "{\"words\":%zu,\"longest\":%s}", counts.words, longest);
  snprintf(summary, size, "%zu words; the longest is %s", counts.words, longest);
  free(longest);
  free(text);

  char line[64];
  snprintf(line, sizeof line, "counted %zu words", counts.words);
  tool_string_t message;
  tool_string_set(&message, line); /* an import's argument stays the caller's: no copy needed */
  ide_agents_tool_log_log(IDE_AGENTS_TOOL_LOG_LEVEL_INFO, &message);

  ide_agents_tool_types_content_t *content = calloc(1, sizeof *content);
  content->tag = IDE_AGENTS_TOOL_TYPES_CONTENT_TEXT;
  content->val.text = (tool_string_t){(uint8_t *)summary, strlen(summary)};
  ret->content = (ide_agents_tool_types_list_content_t){content, 1};
  ret->structured = (tool_option_string_t){.is_some = true, .val = {(uint8_t *)structured, strlen(structured)}};
  ret->is_error = false;
  return true;
}
