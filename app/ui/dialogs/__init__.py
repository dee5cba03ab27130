"""Dialogs: modal or modeless windows opened with open() (never exec()), answering through signals or callbacks."""
