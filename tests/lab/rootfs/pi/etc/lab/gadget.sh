#!/bin/sh
# Fallback only (zb.gadget=shell): the composite gadget built by hand in
# configfs, to prove the lab without the agent. Real tests let the agent
# build it ([gadget] manage = true).
set -e
G=/sys/kernel/config/usb_gadget/zerobmc
mkdir $G
cd $G
echo 0x1d6b >idVendor
echo 0x0104 >idProduct
echo 0x0200 >bcdUSB
echo 0x0100 >bcdDevice
echo 0x00 >bDeviceClass
echo 0x00 >bDeviceSubClass
echo 0x00 >bDeviceProtocol
mkdir strings/0x409
echo lab-shell >strings/0x409/serialnumber
echo zerobmc >strings/0x409/manufacturer
echo "zerobmc lab (shell gadget)" >strings/0x409/product
mkdir configs/c.1 configs/c.1/strings/0x409
echo keyboard+storage+serial >configs/c.1/strings/0x409/configuration
echo 0xa0 >configs/c.1/bmAttributes
echo 250 >configs/c.1/MaxPower

mkdir functions/hid.usb0
echo 1 >functions/hid.usb0/protocol
echo 1 >functions/hid.usb0/subclass
echo 8 >functions/hid.usb0/report_length
# The HID 1.11 boot keyboard: 8-bit modifiers, a reserved byte, six keys,
# five LED bits out.
printf '\005\001\011\006\241\001\005\007\031\340\051\347\025\000\045\001\165\001\225\010\201\002\225\001\165\010\201\003\225\005\165\001\005\010\031\001\051\005\221\002\225\001\165\003\221\003\225\006\165\010\025\000\045\145\005\007\031\000\051\145\201\000\300' \
	>functions/hid.usb0/report_desc

mkdir functions/mass_storage.usb0
echo 1 >functions/mass_storage.usb0/lun.0/removable
mkdir functions/acm.usb0

ln -s functions/hid.usb0 configs/c.1/
ln -s functions/mass_storage.usb0 configs/c.1/
ln -s functions/acm.usb0 configs/c.1/
ls /sys/class/udc | head -n 1 >UDC
echo "lab: shell gadget bound to $(cat UDC)"
