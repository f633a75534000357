"""ai-infra: load settings -> make providers -> instantiate components -> export.

Everything with logic lives in ``components/``; this file only wires it together so a reader
sees the whole platform at a glance.
"""

import pulumi
import pulumi_kubernetes as k8s

from components.core.labels import standard_labels
from components.core.settings import load_settings, load_secrets
from components.namespaces import PlatformNamespace, PlatformNamespaceArgs
from components.specs.namespace import SYSTEM_NAMESPACES

settings = load_settings()
secrets = load_secrets(settings)
env, team = settings.environment.value, settings.team

# -- providers --------------------------------------------------------------------------------
assert settings.cluster.existing is not None
k8s_provider = k8s.Provider(
    "k8s",
    kubeconfig=settings.cluster.existing.kubeconfig,
    context=settings.cluster.existing.context,
    enable_server_side_apply=True,
)
k8s_opts = pulumi.ResourceOptions(provider=k8s_provider)

# -- namespaces -------------------------------------------------------------------------------
namespaces = {
    name: PlatformNamespace(
        f"ns-{name}",
        PlatformNamespaceArgs(
            name=name,
            labels=standard_labels(env=env, team=team, app=name, component="namespace"),
            pod_security="restricted",
            workload=ns_settings,
        ),
        opts=k8s_opts,
    )
    for name, ns_settings in sorted(settings.namespaces.items())
}

pulumi.export("environment", env)
pulumi.export("workloadNamespaces", sorted(namespaces))
pulumi.export("systemNamespaces", sorted(SYSTEM_NAMESPACES))
pulumi.export("policyPackDir", settings.policies.pack_dir)
pulumi.export("policyConfigFile", settings.policy_config_file)
