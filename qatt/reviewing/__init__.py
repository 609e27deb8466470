"""The review lifecycle: forms as data, grading rules, reviews from start to submission and amendment, prefilled answers, review and form spreadsheets, case studies."""
