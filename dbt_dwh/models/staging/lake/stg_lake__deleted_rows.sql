-- Tombstones: rows the OLTP model deleted (table, key, when), from the lake export.
with

source as (

    {{ lake_or_empty('deleted_rows', {
        'table_name': 'string', 'row_key': 'string', 'deleted_at': 'timestamptz',
    }) }}

),

renamed as (

    select
        table_name,
        row_key,
        deleted_at

    from source

)

select * from renamed
