from pkg.sub.mod_flows import dotted_flow as renamed, module_flow
