/*-------------------------------------------------------------------------
 *
 * serverconf.h
 *	  Read a setting of the server that runs us.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SERVERCONF_H
#define SERVERCONF_H

extern bool read_server_setting(const char *name, char *value,
								size_t value_size);

#endif							/* SERVERCONF_H */
