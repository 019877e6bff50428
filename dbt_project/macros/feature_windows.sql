{#-
  The look-back windows, in days, of the orders_<w>d / spend_<w>d features: read by
  int_customer_as_of_windows (the totals up to T − w) and customer_features (the windows
  (T − w, T]). A new window is one more number here and two columns in customer_features.yml;
  the Spark backfill reads the windows from that contract.
-#}
{% macro feature_windows() -%}
    {{ return([30, 90, 180, 365]) }}
{%- endmacro %}
