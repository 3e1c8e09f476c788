# executor tests
