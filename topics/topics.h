/*
 * Topic names of the wire contract (topics/README.md): built once from
 * the base topic, the id and the groups, and matched against incoming
 * command topics.
 */
#ifndef ZB_TOPICS_H
#define ZB_TOPICS_H

#include <stddef.h>

#define TOPICS_MAX 256
#define TOPICS_GROUPS_MAX 8
#define TOPICS_CMD_NAME_MAX 32
/* An agent id or a group name: [A-Za-z0-9_-]{1,64}. */
#define TOPICS_ID_MAX 64

enum topics_pub {
	TOPIC_STATUS,
	TOPIC_STATE,
	TOPIC_CONSOLE,
	TOPIC_RESULT,
	TOPIC_EVENT,
	TOPIC_PUB_COUNT
};

struct topics {
	char base[TOPICS_MAX]; /* "zerobmc/<id>" */
	char pub[TOPIC_PUB_COUNT][TOPICS_MAX];
	char cmd_filter[TOPICS_MAX]; /* "zerobmc/<id>/cmd/+" */
	char group_filter[TOPICS_GROUPS_MAX][TOPICS_MAX];
	char group_prefix[TOPICS_GROUPS_MAX][TOPICS_MAX];
	int n_groups;
};

/* Returns 0, or -ENAMETOOLONG / -EINVAL for names that do not fit. */
int topics_init(struct topics *t, const char *base_topic, const char *id,
		const char (*groups)[TOPICS_ID_MAX + 1], int n_groups);

/*
 * If topic is one of our command topics, copy the command name into
 * name[TOPICS_CMD_NAME_MAX] and return 0; -ENOENT if it is not ours,
 * -EINVAL if the name is empty, too long or not [a-z0-9_].
 */
int topics_match_cmd(const struct topics *t, const char *topic, char *name);

#endif
