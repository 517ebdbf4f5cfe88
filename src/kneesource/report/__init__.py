"""Reports of an assessment: the printed report (HTML, PDF) and FHIR R4 resources."""
