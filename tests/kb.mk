# kb tests
