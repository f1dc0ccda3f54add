"""The login form: environment, API key id, masked secret, "remember in keychain", errors."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.account.auth_errors import AuthProblem
from app.account.constants import ENV_KEY, ENV_SECRET, Environment
from app.account.credentials import KeychainStatus
from app.feeds.bitmex.auth import ApiCredentials
from app.gui.theme import current_theme

ENV_LABELS: dict[Environment, str] = {
    "demo": "Demo simulator",
    "testnet": "BitMEX testnet",
    "live": "BitMEX live",
}


class LoginForm(QWidget):
    """Collects credentials; emits `login_requested(env, credentials, remember)`."""

    login_requested = Signal(str, object, bool)  # env, ApiCredentials, remember
    cancel_requested = Signal()
    env_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginForm")
        self.env_box = QComboBox(self)
        self.env_box.setObjectName("loginEnv")
        for env, label in ENV_LABELS.items():
            self.env_box.addItem(label, env)
        self.key_edit = QLineEdit(self)
        self.key_edit.setObjectName("loginKey")
        self.key_edit.setPlaceholderText("API key id")
        self.secret_edit = QLineEdit(self)
        self.secret_edit.setObjectName("loginSecret")
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setPlaceholderText("API secret")
        self.remember = QCheckBox("Remember in keychain", self)
        self.remember.setObjectName("loginRemember")
        self.keychain_note = QLabel("", self)
        self.keychain_note.setObjectName("keychainNote")
        self.keychain_note.setWordWrap(True)
        self.source_note = QLabel("", self)
        self.source_note.setObjectName("sourceNote")
        self.source_note.setWordWrap(True)
        self.login_button = QPushButton("Log in", self)
        self.login_button.setObjectName("loginButton")
        self.login_button.setDefault(True)
        self.error = QLabel("", self)
        self.error.setObjectName("loginError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        form = QFormLayout()
        form.addRow("Environment", self.env_box)
        form.addRow("Key id", self.key_edit)
        form.addRow("Secret", self.secret_edit)
        form.addRow("", self.remember)
        self.setMaximumWidth(520)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.keychain_note)
        layout.addWidget(self.source_note)
        layout.addWidget(self.login_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        layout.addStretch(1)
        hint = QLabel(
            f"Or set {ENV_KEY} and {ENV_SECRET} in the environment. Secrets are never written"
            " to settings or logs.",
            self,
        )
        hint.setObjectName("loginHint")
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {current_theme().dim_text};")
        layout.addWidget(hint)
        self.login_button.clicked.connect(self._on_button)
        self.progress = QLabel("", self)
        self.progress.setObjectName("loginProgress")
        self.progress.setWordWrap(True)
        self.progress.hide()
        layout.insertWidget(layout.indexOf(self.login_button) + 1, self.progress)
        self._busy = False
        self.secret_edit.returnPressed.connect(self._on_return)
        self.key_edit.returnPressed.connect(self._on_return)
        self._keychain_ok = True
        self.env_box.currentIndexChanged.connect(self._on_env)

    # -- state ---------------------------------------------------------------------------------

    def env(self) -> Environment:
        value = self.env_box.currentData()
        return value if value in ENV_LABELS else "demo"

    def set_env(self, env: str) -> None:
        index = self.env_box.findData(env)
        if index >= 0:
            self.env_box.setCurrentIndex(index)

    def set_keychain_status(self, status: KeychainStatus) -> None:
        self._keychain_ok = status.available
        self.remember.setEnabled(status.available)
        if not status.available:
            self.remember.setChecked(False)
        backend = status.backend.rsplit(".", 2)[-2] if status.backend.count(".") >= 2 else ""
        self.keychain_note.setText(
            ""
            if status.available
            else "No OS keychain found"
            + (f" (keyring backend: {backend})" if backend else "")
            + ". Secrets are kept in memory for this session only."
        )
        self.keychain_note.setToolTip(status.detail)
        self.keychain_note.setVisible(not status.available)
        self.keychain_note.setStyleSheet(f"color: {current_theme().warn};")

    def prefill(self, key_id: str, secret: str | None, source_note: str) -> None:
        """Fill the key (and the masked secret when one was found) and say where it came from."""
        self.key_edit.setText(key_id)
        self.secret_edit.setText(secret or "")
        self.source_note.setText(source_note)
        self.source_note.setVisible(bool(source_note))
        self.source_note.setStyleSheet(f"color: {current_theme().dim_text};")

    def clear_secret(self) -> None:
        self.secret_edit.clear()

    def set_busy(self, busy: bool) -> None:
        """While a login runs the button cancels it; the fields are locked."""
        self._busy = busy
        self.login_button.setText("Cancel login" if busy else "Log in")
        for w in (self.env_box, self.key_edit, self.secret_edit, self.remember):
            w.setEnabled(not busy)
        if not busy:
            self.remember.setEnabled(self._keychain_ok)
            self.show_progress("")

    def show_progress(self, text: str) -> None:
        """Connection progress while logging in (e.g. "reconnecting: connection refused")."""
        self.progress.setText(text)
        self.progress.setVisible(bool(text))
        self.progress.setStyleSheet(f"color: {current_theme().dim_text};")

    def _on_button(self) -> None:
        if self._busy:
            self.cancel_requested.emit()
        else:
            self._submit()

    def show_problem(self, problem: AuthProblem | None, text: str = "") -> None:
        """Show an auth problem (title, hint, server text) or a plain error; None hides it."""
        if problem is None and not text:
            self.error.hide()
            self.error.setText("")
            return
        theme = current_theme()
        if problem is not None:
            server = html.escape(problem.server_text or "no reason given")
            code = f" {problem.status}" if problem.status is not None else ""
            markup = (
                f"<b>{problem.title}</b><br>{problem.hint}"
                f"<br><span style='color:{theme.dim_text}'>Server{code}: {server}</span>"
            )
        else:
            markup = f"<b>{html.escape(text)}</b>"
        self.error.setText(markup)
        self.error.setStyleSheet(
            f"color: {theme.text}; background: {theme.sell_bg}; border: 1px solid {theme.alert};"
            " border-radius: 3px; padding: 6px;"
        )
        self.error.show()

    def error_text(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""

    # -- internals -----------------------------------------------------------------------------

    def _on_env(self, _index: int) -> None:
        self.show_problem(None)
        self.env_changed.emit(self.env())

    def _on_return(self) -> None:
        if not self._busy:
            self._submit()

    def _submit(self) -> None:
        key = self.key_edit.text().strip()
        secret = self.secret_edit.text().strip()
        if not key or not secret:
            self.show_problem(None, "Enter both the API key id and the secret.")
            return
        self.show_problem(None)
        self.login_requested.emit(
            self.env(), ApiCredentials(key=key, secret=secret), self.remember.isChecked()
        )
