/*
 * an_wire.h — the Anthropic Messages wire format: the request body the
 * anthropic provider sends and the reading of the answer, apart from the
 * plugin glue and the network (anthropic.c), so a benchmark can time them
 * and tests can feed them any body.
 */
#ifndef AML_AN_WIRE_H
#define AML_AN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <automlgen/plugin.h>

#include "httpc.h"
#include "provkit.h"

/* What the provider's parameters add to a request (borrowed). */
typedef struct an_params {
	const char *model;
	double temperature;        /* the provider's default; < 0: none */
	long max_tokens;           /* the provider's default, >= 1 (required) */
	const char *const *stop;   /* stop sequences, n_stop of them */
	size_t n_stop;
} an_params;

/* The JSON body for req: {"model", "max_tokens", "system"?, "messages":
 * [user], "temperature"?, "stop_sequences"?}.  The system prompt is the
 * top-level "system", never a message.  The request's temperature and
 * max_tokens win when set (>= 0, > 0), else p's.  *body is malloc()ed
 * (caller frees).  Returns AML_OK, AML_EINVAL (no user prompt) or
 * AML_ENOMEM, with a line in err. */
int an_request_build(const an_params *p, const aml_llm_request *req, char **body,
		     char *err, size_t errlen);

/* A parsed answer (httpc.h); free it with pk_answer_free. */
typedef pk_answer an_answer;

/* Read a 2xx body.  Returns AML_OK and fills a; AML_EFORMAT with one line
 * of why for an answer that cannot be used (not JSON, an HTML page, an
 * error object, no text in the content: worth another try); AML_ENOMEM.
 * a is reset first, so it may be reused across attempts. */
int an_response_parse(const char *body, size_t len, const char *content_type,
		      an_answer *a, char *why, size_t whylen);


#endif /* AML_AN_WIRE_H */
