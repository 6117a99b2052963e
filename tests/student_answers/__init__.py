"""Typical wrong answers, one per question of each lab, for the student-path tests.

`labNN.py` defines `WRONG`: for every answer cell of the lab's student copy (a code cell with
`# YOUR CODE HERE`), a substring that identifies it -> the full source of that cell as a student
with a typical mistake would write it. `tests/test_labs.py` runs the student copy with these
cells filled in and asserts that each check fails with a message that teaches, and that no
other cell shows a traceback.
"""
