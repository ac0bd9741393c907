-- depends_on: {{ ref('stg_socrata__service_requests') }}

-- The raw LA 311 loads this run folds (macros/la311.sql): the finished loads some 311 model has
-- not folded yet, every finished load on a first build or a full refresh. Built first, so every
-- 311 model of the run reads and records the same loads.
{%- set loads = la311_loads_to_fold() %}
with

scope as (

    select loads.load_id
    from unnest(cast(array[{{ la311_literals(loads) }}] as text[])) as loads (load_id)

)

select * from scope
