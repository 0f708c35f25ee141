{#-
  dbt run-operation synthesize --args '{select: "source:ops", scale: 2, seed: 7}'

  Fits one model per selected table (when refit is true or no models are saved yet in
  target/synthohive/), then writes the synthetic tables into `schema` on dbt's own
  connection. Runs the synthohive Python library in-process through the dbt_synthohive
  plugin (pip install synthohive-dbt), which adds adapter.synthohive_synthesize.

  Arguments (each defaults to the same key of var('synthohive_synthesize'), then to the
  value shown; var('synthohive') holds the fidelity-test thresholds of `synthohive generate`):
    select      dbt selection of sources/models/seeds, string or list (every source of
                the project)
    exclude     dbt exclusion (none)
    schema      schema for the synthetic tables ('synthohive')
    scale       size factor of the root tables (1)
    seed        random seed for fitting and sampling (0)
    refit       fit again even when models are saved (false)
    model       autoregressive, ctgan or copula ('autoregressive'; copula is fastest)
    epochs, batch_size, device ('cpu'), precision ('auto')   training options
    artifacts   where models are saved, relative to the project ('target/synthohive')
    report      also write the quality report into the artifacts folder (false)
-#}
{% macro synthesize(select=none, exclude=none, schema=none, scale=none, seed=none, refit=none,
                    model=none, epochs=none, batch_size=none, device=none, precision=none,
                    artifacts=none, report=none) %}
  {%- if not execute -%}
    {{ return({}) }}
  {%- endif -%}
  {%- if adapter.synthohive_synthesize is not defined -%}
    {{ exceptions.raise_compiler_error(
        "synthohive: `dbt run-operation synthesize` needs the synthohive Python package in "
        ~ "the environment that runs dbt, and adapter.synthohive_synthesize is missing. "
        ~ "Install it with `pip install synthohive-dbt` (check with "
        ~ "`python -m dbt_synthohive`), or run `synthohive fit` and `synthohive generate` "
        ~ "instead.") }}
  {%- endif -%}
  {%- set defaults = var('synthohive_synthesize', none) or {} -%}
  {%- if defaults is not mapping -%}
    {{ exceptions.raise_compiler_error(
        "synthohive: var('synthohive_synthesize') must map argument names to defaults "
        ~ "(schema: synthohive, model: copula, ...), got " ~ defaults) }}
  {%- endif -%}
  {%- set given = {
      'select': select, 'exclude': exclude, 'schema': schema, 'scale': scale, 'seed': seed,
      'refit': refit, 'model': model, 'epochs': epochs, 'batch_size': batch_size,
      'device': device, 'precision': precision, 'artifacts': artifacts, 'report': report} -%}
  {%- set args = {} -%}
  {%- for key, value in given.items() -%}
    {%- set chosen = value if value is not none else defaults.get(key) -%}
    {%- if chosen is not none -%}
      {%- do args.update({key: chosen}) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set summary = adapter.synthohive_synthesize(**args) -%}
  {%- for line in summary['lines'] -%}
    {{ log(line, info=True) }}
  {%- endfor -%}
  {{ return(summary) }}
{% endmacro %}
