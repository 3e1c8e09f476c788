# Knowledge base loading and retrieval (see kb.h), its BM25 index
# (bm25.h) and where a run finds its packs (kbload.h).
core_libamlcore_la_SOURCES += core/kb.c core/kb.h core/bm25.c core/bm25.h \
	core/kbload.c core/kbload.h
# `automlgen kb` (linked into the CLI, not the library).
AML_CLI_FILES += core/cmd_kb.c
