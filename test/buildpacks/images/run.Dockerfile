# The test run image: nothing but the CNB user, for static applications
# (the launcher the exporter adds is static too).
FROM scratch
COPY passwd group /etc/
USER 1000:1000
