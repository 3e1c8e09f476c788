/*
 * oa_wire.h — the OpenAI chat-completions wire format: the request body
 * the openai provider sends and the reading of the answer, apart from the
 * plugin glue and the network (openai.c), so a benchmark can time them
 * and tests can feed them any body.
 *
 * The same format is spoken by llama.cpp's server, Ollama, vLLM and LM
 * Studio under /v1/chat/completions.
 */
#ifndef AML_OA_WIRE_H
#define AML_OA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <automlgen/plugin.h>

#include "httpc.h"
#include "provkit.h"

/* What the provider's parameters add to a request (borrowed). */
typedef struct oa_params {
	const char *model;
	double temperature;        /* the provider's default; < 0: none */
	long max_tokens;           /* the provider's default; <= 0: none */
	const char *const *stop;   /* stop sequences, n_stop of them */
	size_t n_stop;
	int reasoning;             /* 1: a reasoning model (o1, o3, gpt-5...) */
} oa_params;

/* 1 when model names a reasoning model by its prefix (o1, o3, o4,
 * gpt-5): those refuse a temperature and take max_completion_tokens. */
int oa_reasoning_model(const char *model);

/* The seed as sent: values above 2^31 - 1 are folded into 31 bits, which
 * every server takes (vLLM refuses values beyond int64, llama.cpp keeps 32
 * bits). */
int64_t oa_wire_seed(uint64_t seed);

/* The JSON body for req: {"model", "messages": [system?, user],
 * "temperature"?, "max_tokens" | "max_completion_tokens"?, "stop"?,
 * "seed"}.  The request's temperature and max_tokens win when set (>= 0,
 * > 0), else p's; a reasoning model gets no temperature.  *body is
 * malloc()ed (caller frees).  Returns AML_OK, AML_EINVAL (no user prompt)
 * or AML_ENOMEM, with a line in err. */
int oa_request_build(const oa_params *p, const aml_llm_request *req, char **body,
		     char *err, size_t errlen);

/* A parsed answer (httpc.h); free it with pk_answer_free. */
typedef pk_answer oa_answer;

/* Read a 2xx body.  Returns AML_OK and fills a; AML_EFORMAT with one line
 * of why for an answer that cannot be used (not JSON, an HTML page, an
 * error object, no choices, no content: worth another try); AML_ENOMEM.
 * a is reset first, so it may be reused across attempts. */
int oa_response_parse(const char *body, size_t len, const char *content_type,
		      oa_answer *a, char *why, size_t whylen);


#endif /* AML_OA_WIRE_H */
