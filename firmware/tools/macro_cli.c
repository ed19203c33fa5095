#include "firmware/tools/macro_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/macro/macro_parse.h"
#include "firmware/macro/macro_store.h"

static void macro_cli_usage(FILE *f)
{
	fprintf(f, "usage: zerobmc macro check [-l LAYOUT] FILE...\n"
		   "       zerobmc macro builtins\n"
		   "       zerobmc macro show NAME\n"
		   "\n"
		   "check parses each FILE (- for standard input) as the "
		   "agent would\nand prints its errors with line numbers; "
		   "STRING text is checked\nagainst LAYOUT (default us). "
		   "show prints a built-in macro.\n");
}

/* Read all of f, at most MACRO_FILE_MAX + 1 bytes (one more: too big). */
static int macro_cli_read(FILE *f, char **text, size_t *len)
{
	char *buf = malloc(MACRO_FILE_MAX + 2);
	size_t n;

	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, MACRO_FILE_MAX + 1, f);
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int macro_cli_check(const char *path, const struct layout *l,
			   bool prefix)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct macro_script s;
	struct macro_error err;
	char *text;
	size_t len;
	int r;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	r = macro_cli_read(f, &text, &len);
	if (f != stdin)
		fclose(f);
	if (r) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return 1;
	}
	r = macro_parse(text, len, l, &s, &err);
	free(text);
	if (r) {
		if (err.line)
			fprintf(stderr, "%s:%u: %s\n", path, (unsigned)err.line,
				err.msg);
		else
			fprintf(stderr, "%s: %s\n", path, err.msg);
		return 1;
	}
	printf("%s%sOK: %zu lines, %zu ops\n", prefix ? path : "",
	       prefix ? ": " : "", s.lines, s.n);
	macro_script_free(&s);
	return 0;
}

int macro_cli_main(int argc, char **argv, const struct config *cfg)
{
	const struct layout *l = layout_find("us");
	int i = 2, failed = 0, files;

	(void)cfg;
	if (argc >= 2 && !strcmp(argv[1], "builtins")) {
		for (const struct macro_builtin *b = macro_builtins(); b->name;
		     b++)
			printf("%-14s %s\n", b->name, b->summary);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "show")) {
		const struct macro_builtin *b = macro_builtin_find(argv[2]);

		if (!b) {
			fprintf(stderr, "zerobmc: no built-in macro \"%s\"\n",
				argv[2]);
			return 1;
		}
		fputs(b->script, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "check")) {
		macro_cli_usage(stderr);
		return 2;
	}
	if (i < argc && !strcmp(argv[i], "-l")) {
		if (i + 1 >= argc || !(l = layout_find(argv[i + 1]))) {
			fprintf(stderr, "zerobmc: unknown layout \"%s\"\n",
				i + 1 < argc ? argv[i + 1] : "");
			return 2;
		}
		i += 2;
	}
	files = argc - i;
	if (files < 1) {
		macro_cli_usage(stderr);
		return 2;
	}
	for (; i < argc; i++)
		failed |= macro_cli_check(argv[i], l, files > 1);
	return failed ? 1 : 0;
}
