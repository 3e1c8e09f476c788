# task tests
