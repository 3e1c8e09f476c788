# Knowledge-base packs.
