-- The `auto` build type (docs/builders/auto.md): the instance's default
-- zero-config builder, and the builder each deployment was built with.

-- default_builder: the build type `auto` tries right after the Dockerfile
-- builder (a builder plugin's name, e.g. railpack); instance
-- administrators change it.
ALTER TABLE instance_settings ADD COLUMN default_builder text NOT NULL DEFAULT 'railpack';

-- builder: the builder plugin that built the deployment (builder.<name>);
-- builder_reason: why `auto` chose it (empty for an explicit build type).
ALTER TABLE deployments ADD COLUMN builder text NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN builder_reason text NOT NULL DEFAULT '';
