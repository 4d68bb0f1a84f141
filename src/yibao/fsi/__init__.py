"""The institution interface (定点医药机构接口): the national envelope over the settlement use cases."""
