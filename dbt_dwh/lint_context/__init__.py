"""What sqlfluff's jinja templater lacks to render this project's real macros (.sqlfluff's
`library_path`): dbt's `adapter.dispatch` and the cross-database macros of dbt's own `dbt`
namespace. The linter reads DuckDB SQL, so both answer as dbt-duckdb would. Imported by sqlfluff
only, never by the project's Python."""
