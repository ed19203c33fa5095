/* The one function of the capability interface that is not the agent's. */
#include "firmware/agent/cap.h"

#include <stdlib.h>

void cmd_req_free(struct cmd_req *req)
{
	if (!req)
		return;
	payload_free(&req->p);
	free(req->response_topic);
	free(req->topic);
	free(req->correlation);
	free(req);
}
