"""Autograded questions, one module per lab (`lab01.py`, `lab02.py`, ...).

Each module registers its questions with `cs109b_bayes.grading.question`;
`cs109b_bayes.check("labNN.name", ...)` imports the module on first use.
"""
