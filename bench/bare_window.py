"""The yardstick for bench/startup_window.py: a bare PySide6 main window, shown and painted, then exit."""

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

app = QApplication(["bare"])
window = QMainWindow()
window.setCentralWidget(QLabel("bare"))
window.resize(800, 600)
window.show()
app.processEvents()
sys.exit(0)
