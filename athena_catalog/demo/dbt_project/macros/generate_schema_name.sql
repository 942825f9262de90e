{#- A model's +schema is its Glue database as is (dbt's default would prefix the target's). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
