"""Operations of the registry: every read that needs logic and every write lives here.

Views, the command line, the seed loader and tests all call these functions, so a rule is
enforced in one place whichever door the data comes through.
"""
