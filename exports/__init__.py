"""Exports: the Excel workbook (xlsx.py) and the PDF packs (pdf.py), built from qatt.reports data.

Every export is written atomically and recorded in the audit log as a disclosure (common.py)."""
