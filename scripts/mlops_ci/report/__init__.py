"""The reviewer's PR report and the comment that carries it."""
