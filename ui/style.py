"""One calm, readable look for the whole program (large enough for a clinic screen)."""

STYLE_SHEET = """
QLabel#sectionTitle { font-size: 13pt; font-weight: 600; margin-top: 4px; }
QLabel#patientName { font-size: 18pt; font-weight: 600; }
QLabel#muted { color: #5b6770; }
QLabel#placeholder { color: #7a868f; font-size: 12pt; }
QLabel#error { color: #b00020; font-weight: 600; }
QLabel#warning { color: #8a5300; background: #fff4e0; border: 1px solid #f0c36d; border-radius: 4px; padding: 4px 8px; }
QWidget[invalid="true"] { border: 2px solid #b00020; }
QTableView { gridline-color: #e3e7ea; }
QTableView::item:selected { background: #1f6f8b; color: white; }
QPushButton { padding: 5px 12px; }
QTabBar::tab { padding: 7px 16px; }
"""
