# The test builder image: a Debian base (the debootstrap image of
# scripts/dbimages.sh), the CNB lifecycle, the test buildpacks and their
# order, a non-root CNB user. scripts/fixtures/20-cnb.sh stages the build
# context (cnb/ holds lifecycle/, buildpacks/, order.toml, run.toml) and
# adds the io.buildpacks.builder.metadata label.
ARG BASE
FROM ${BASE}
RUN groupadd --gid 1000 cnb \
 && useradd --uid 1000 --gid 1000 --create-home --shell /bin/sh cnb \
 && mkdir -p /workspace /layers /platform \
 && chown 1000:1000 /workspace /layers
COPY cnb /cnb
ENV CNB_USER_ID=1000 CNB_GROUP_ID=1000 CNB_STACK_ID=io.berth.test
USER 1000:1000
WORKDIR /workspace
