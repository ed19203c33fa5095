#include "topics/topics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const topics_pub_names[TOPIC_PUB_COUNT] = {
	[TOPIC_STATUS] = "status",   [TOPIC_STATE] = "state",
	[TOPIC_CONSOLE] = "console", [TOPIC_RESULT] = "result",
	[TOPIC_EVENT] = "event",
};

static int topics_fmt(char *dst, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(dst, TOPICS_MAX, fmt, a, b);

	return n < 0 || n >= TOPICS_MAX ? -ENAMETOOLONG : 0;
}

int topics_init(struct topics *t, const char *base_topic, const char *id,
		const char (*groups)[TOPICS_ID_MAX + 1], int n_groups)
{
	int r;

	memset(t, 0, sizeof(*t));
	if (!base_topic[0] || !id[0] || n_groups > TOPICS_GROUPS_MAX ||
	    strpbrk(base_topic, "+#") || strpbrk(id, "+#/"))
		return -EINVAL;
	r = topics_fmt(t->base, "%s/%s", base_topic, id);
	for (int i = 0; !r && i < TOPIC_PUB_COUNT; i++)
		r = topics_fmt(t->pub[i], "%s/%s", t->base,
			       topics_pub_names[i]);
	if (!r)
		r = topics_fmt(t->cmd_filter, "%s/%s", t->base, "cmd/+");
	for (int i = 0; !r && i < n_groups; i++) {
		char g[TOPICS_MAX];

		r = topics_fmt(g, "%s/group/%s", base_topic, groups[i]);
		if (!r)
			r = topics_fmt(t->group_prefix[i], "%s/%s", g, "cmd/");
		if (!r)
			r = topics_fmt(t->group_filter[i], "%s/%s", g, "cmd/+");
	}
	t->n_groups = n_groups;
	return r;
}

static int topics_cmd_name(const char *s, char *name)
{
	size_t n = strlen(s);

	if (n == 0 || n >= TOPICS_CMD_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return -EINVAL;
	memcpy(name, s, n + 1);
	return 0;
}

int topics_match_cmd(const struct topics *t, const char *topic, char *name)
{
	size_t bl = strlen(t->base);

	if (!strncmp(topic, t->base, bl) && !strncmp(topic + bl, "/cmd/", 5))
		return topics_cmd_name(topic + bl + 5, name);
	for (int i = 0; i < t->n_groups; i++) {
		size_t pl = strlen(t->group_prefix[i]);

		if (!strncmp(topic, t->group_prefix[i], pl))
			return topics_cmd_name(topic + pl, name);
	}
	return -ENOENT;
}
