/*
 * pappl_printer: a small PAPPL printer application for the fleet tests.
 *
 *   pappl_printer PORT COUNT SPOOLDIR [NAME-PREFIX]
 *
 * Serves COUNT printers named PREFIX-1 .. PREFIX-COUNT (default prefix "fleet")
 * on 127.0.0.1:PORT only, each at ipp://127.0.0.1:PORT/ipp/print/PREFIX-N.
 * Every printer supports duplex and colour; its defaults start one-sided and
 * colour, and sides-default / print-color-mode-default (and the other
 * defaults PAPPL lists in printer-settable-attributes-supported) can be
 * changed with Set-Printer-Attributes. Jobs are discarded (device
 * file:///dev/null). No DNS-SD, no TLS, no web pages, no state file: the
 * printer application is started and stopped by PID by the test.
 */
#include <pappl/pappl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool rstartjob(pappl_job_t *job, pappl_pr_options_t *options, pappl_device_t *device) {
  (void)job; (void)options; (void)device;
  return true;
}
static bool rstartpage(pappl_job_t *job, pappl_pr_options_t *options, pappl_device_t *device,
                       unsigned page) {
  (void)job; (void)options; (void)device; (void)page;
  return true;
}
static bool rwriteline(pappl_job_t *job, pappl_pr_options_t *options, pappl_device_t *device,
                       unsigned y, const unsigned char *line) {
  (void)job; (void)options; (void)device; (void)y; (void)line;
  return true;
}
static bool rendpage(pappl_job_t *job, pappl_pr_options_t *options, pappl_device_t *device,
                     unsigned page) {
  (void)job; (void)options; (void)device; (void)page;
  return true;
}
static bool rendjob(pappl_job_t *job, pappl_pr_options_t *options, pappl_device_t *device) {
  (void)job; (void)options; (void)device;
  return true;
}
static bool status(pappl_printer_t *printer) {
  (void)printer;
  return true;
}

static bool driver_cb(pappl_system_t *system, const char *driver_name, const char *device_uri,
                      const char *device_id, pappl_pr_driver_data_t *d, ipp_t **driver_attrs,
                      void *data) {
  (void)system; (void)driver_name; (void)device_uri; (void)device_id; (void)driver_attrs;
  (void)data;
  d->rstartjob_cb = rstartjob;
  d->rstartpage_cb = rstartpage;
  d->rwriteline_cb = rwriteline;
  d->rendpage_cb = rendpage;
  d->rendjob_cb = rendjob;
  d->status_cb = status;
  d->format = "image/pwg-raster";
  strncpy(d->make_and_model, "pullprint fleet test printer", sizeof(d->make_and_model) - 1);
  d->ppm = 20;
  d->ppm_color = 10;
  d->kind = PAPPL_KIND_DOCUMENT;
  d->color_supported = PAPPL_COLOR_MODE_AUTO | PAPPL_COLOR_MODE_COLOR | PAPPL_COLOR_MODE_MONOCHROME;
  d->color_default = PAPPL_COLOR_MODE_COLOR;
  d->raster_types = PAPPL_PWG_RASTER_TYPE_BLACK_8 | PAPPL_PWG_RASTER_TYPE_SGRAY_8 |
                    PAPPL_PWG_RASTER_TYPE_SRGB_8;
  d->duplex = PAPPL_DUPLEX_NORMAL;
  d->sides_supported = PAPPL_SIDES_ONE_SIDED | PAPPL_SIDES_TWO_SIDED_LONG_EDGE |
                       PAPPL_SIDES_TWO_SIDED_SHORT_EDGE;
  d->sides_default = PAPPL_SIDES_ONE_SIDED;
  d->num_resolution = 1;
  d->x_resolution[0] = d->y_resolution[0] = 300;
  d->x_default = d->y_default = 300;
  d->left_right = d->bottom_top = 423;
  d->num_media = 2;
  d->media[0] = "iso_a4_210x297mm";
  d->media[1] = "na_letter_8.5x11in";
  d->num_source = 1;
  d->source[0] = "main";
  strncpy(d->media_default.size_name, "iso_a4_210x297mm", sizeof(d->media_default.size_name) - 1);
  d->media_default.size_width = 21000;
  d->media_default.size_length = 29700;
  d->media_default.left_margin = d->media_default.right_margin = 423;
  d->media_default.top_margin = d->media_default.bottom_margin = 423;
  strncpy(d->media_default.source, "main", sizeof(d->media_default.source) - 1);
  strncpy(d->media_default.type, "stationery", sizeof(d->media_default.type) - 1);
  d->media_ready[0] = d->media_default;
  d->num_type = 1;
  d->type[0] = "stationery";
  d->quality_default = IPP_QUALITY_NORMAL;
  d->orient_default = IPP_ORIENT_NONE;
  return true;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fputs("usage: pappl_printer PORT COUNT SPOOLDIR [NAME-PREFIX]\n", stderr);
    return 1;
  }
  int port = atoi(argv[1]);
  int count = atoi(argv[2]);
  const char *spooldir = argv[3];
  const char *prefix = argc == 5 ? argv[4] : "fleet";
  if (port <= 0 || port > 65535 || count < 1 || count > 1000) {
    fputs("pappl_printer: bad PORT or COUNT\n", stderr);
    return 1;
  }

  char logfile[1024];
  snprintf(logfile, sizeof(logfile), "%s/pappl.log", spooldir);
  pappl_system_t *system = papplSystemCreate(
      PAPPL_SOPTIONS_MULTI_QUEUE | PAPPL_SOPTIONS_NO_TLS, "pullprint fleet test", port, NULL,
      spooldir, logfile, PAPPL_LOGLEVEL_WARN, NULL, false);
  if (!system) {
    fputs("pappl_printer: papplSystemCreate failed\n", stderr);
    return 1;
  }
  papplSystemSetHostName(system, "127.0.0.1");
  if (!papplSystemAddListeners(system, "127.0.0.1")) {
    fputs("pappl_printer: cannot listen on 127.0.0.1\n", stderr);
    return 1;
  }
  pappl_pr_driver_t drivers[] = {{"fleet", "pullprint fleet test printer", NULL, NULL}};
  papplSystemSetPrinterDrivers(system, 1, drivers, NULL, NULL, driver_cb, NULL);

  for (int i = 1; i <= count; i++) {
    char name[128];
    snprintf(name, sizeof(name), "%s-%d", prefix, i);
    if (!papplPrinterCreate(system, 0, name, "fleet", "MFG:pullprint;MDL:fleet;CMD:PWGRaster;",
                            "file:///dev/null")) {
      fprintf(stderr, "pappl_printer: cannot create printer %s\n", name);
      return 1;
    }
  }
  fprintf(stderr, "pappl_printer: %d printers on 127.0.0.1:%d\n", count, port);
  papplSystemRun(system);
  papplSystemDelete(system);
  return 0;
}
