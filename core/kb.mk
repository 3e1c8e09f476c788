# Knowledge base loading and retrieval (see kb.h).
core_libamlcore_la_SOURCES += core/kb.c core/kb.h
