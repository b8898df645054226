"""The sign-in window after repeated wrong passwords: says when to try again and waits."""

from __future__ import annotations

from app.safety import accounts


def test_sign_in_window_pauses_after_repeated_failures(qtbot, clinic) -> None:  # type: ignore[no-untyped-def]
    from ui.sign_in import SignInDialog

    with clinic.db.session() as s:
        accounts.create_account(s, "Dr Admin", "correct horse", role="admin")
    dialog = SignInDialog(clinic)
    qtbot.addWidget(dialog)
    for i in range(accounts.FREE_FAILURES):
        dialog.password.setText(f"wrong guess {i}")
        dialog._try_accept()
        assert "not right" in dialog.error.text()
        assert dialog.sign_in_button.isEnabled()
    dialog.password.setText("correct horse")
    dialog._try_accept()
    assert "try again in 30 seconds" in dialog.error.text()
    assert not dialog.sign_in_button.isEnabled()
    assert dialog.password.text() == ""  # never kept in the widget
    assert dialog.result() != dialog.DialogCode.Accepted
    assert 29_000 < dialog._pause.remainingTime() <= 31_000
    dialog._pause.timeout.emit()  # as when the pause is over
    assert dialog.sign_in_button.isEnabled()


def test_accounts_dialog_refuses_a_blank_password(qtbot, clinic) -> None:  # type: ignore[no-untyped-def]
    from ui.sign_in import AccountsDialog

    dialog = AccountsDialog(clinic)
    qtbot.addWidget(dialog)
    dialog.name.setText("Dr Admin")
    dialog.password.setText(" " * 10)
    dialog._save()
    assert "only spaces" in dialog.error.text()
    with clinic.db.session() as s:
        assert not accounts.accounts_enabled(s)
