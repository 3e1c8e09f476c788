# Knowledge base loading and retrieval (see kb.h).
