#!/usr/bin/env python3
"""Generate the deterministic demo archive: synthetic contact-centre transcripts with their planted truth.

The archive imitates exports of a Chinese platform's contact centre (food delivery ~60 %, hotel ~40 %,
plus one e-commerce journey retelling the remote-control story of the 618 projector). Every contact follows the
service journey (IVR, bot, online or phone agent, ticket, transfers, first-line to second-line escalation,
merchant / rider / hotel turns) through one or two customer-journey stages, with an emotion planted on every
customer turn.

Planted, per stage (see ``STAGES``): contact volume and pain. Pain raises negative emotion, unresolved
endings, repeat contacts, transfers, complaint threats and effort markers. From ``start + CHANGE_AFTER_DAYS``
the pain of the food-delivery ``delivery`` stage drops from 0.55 to 0.12; nothing else changes. Truth per
transcript: stage, issue type, service step and (customer turns) emotion per turn, segments, resolved,
promises (with deadline and whether a later contact shows them broken), PII values and the turns carrying
effort markers and threats.

Usage::

    python scripts/generate_demo.py --n 2400 --seed 7 --out data/demo/   # archive.jsonl.gz + truth.jsonl.gz
    python scripts/generate_demo.py --n 100000 --out - > archive.jsonl    # plain JSONL on stdout, no truth

Standard library only; all randomness comes from one ``random.Random(seed)``, so the same arguments give
byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import heapq
import json
import re
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from random import Random

TZ = timezone(timedelta(hours=8))
CHANGE_AFTER_DAYS = 45  # from start + 45 days the delivery stage of food_delivery hurts less
DELIVERY_PAIN_AFTER_CHANGE = 0.12
MIN_TURNS, MAX_TURNS = 8, 30
EMOTIONS = ("anger", "frustration", "anxiety", "disappointment", "confusion", "neutral", "satisfaction",
            "gratitude")
NEGATIVE = frozenset({"anger", "frustration", "anxiety", "disappointment"})

# -----------------------------------------------------------------------------------------------------------
# Journey stages: stage id -> (contact volume weight, pain 0..1, issue weights (doubt, defect, blockage),
# third party involved or None, stages a contact may move on to). Ids are those of models/taxonomies/*.yaml.
# Food delivery (the 美团 journey study): receiving and eating have the most problems, review and refund hurt most.
# Hotel: waiting has the most problems but low pain; confirmation has few problems but the highest pain.
# ------------------------------------------------------------------------------------------------------------
STAGES: dict[str, dict[str, tuple[float, float, tuple[float, float, float], str | None, tuple[str, ...]]]] = {
    "food_delivery": {
        "order": (6, 0.25, (5, 2, 3), "merchant", ("payment", "refund")),
        "payment": (5, 0.35, (3, 3, 4), None, ("refund",)),
        "merchant_accept": (5, 0.35, (4, 1, 5), "merchant", ("refund",)),
        "cooking": (7, 0.35, (5, 1, 4), "merchant", ("delivery", "refund")),
        "pickup": (4, 0.35, (4, 2, 4), "rider", ("delivery", "refund")),
        "delivery": (14, 0.55, (5, 1, 4), "rider", ("refund", "receiving", "coupon")),
        "receiving": (18, 0.40, (2, 6, 2), "rider", ("refund", "coupon")),
        "eating": (17, 0.45, (1, 8, 1), "merchant", ("refund", "review")),
        "review": (5, 0.80, (4, 4, 2), "merchant", ("refund",)),
        "refund": (10, 0.85, (5, 3, 2), None, ("coupon",)),
        "coupon": (9, 0.35, (5, 2, 3), None, ("refund",)),
    },
    "hotel": {
        "booking": (12, 0.30, (5, 2, 3), "hotel", ("payment", "waiting")),
        "payment": (8, 0.35, (3, 4, 3), None, ("booking",)),
        "confirmation": (5, 0.92, (4, 1, 5), "hotel", ("waiting",)),
        "waiting": (30, 0.18, (6, 1, 3), "hotel", ("booking",)),
        "check_in": (18, 0.45, (2, 6, 2), "hotel", ("checkout",)),
        "checkout": (12, 0.40, (4, 4, 2), "hotel", ("review",)),
        "review": (6, 0.55, (4, 4, 2), "hotel", ()),
    },
}
ISSUES = ("doubt", "defect", "blockage")
_URGENT_STAGES = frozenset({"merchant_accept", "cooking", "pickup", "delivery", "confirmation", "check_in"})
LINE_SHARE = {"food_delivery": 0.6, "hotel": 0.4}
PARTY = {  # third party: (name in Chinese, in English, speaker label)
    "merchant": ("商家", "the restaurant", "商家"),
    "rider": ("骑手", "the rider", "骑手"),
    "hotel": ("酒店", "the hotel", "酒店前台"),
}

# -----------------------------------------------------------------------------------------------------------
# Stage phrase banks. Compact form: alternatives separated by "|", fields by ">>". The issue keys (doubt,
# defect, blockage) hold scenarios "customer states the problem>>agent's finding>>agent's resolution[>>what
# the third party says]". Also: follow (customer follow-up), qa ("agent question>>customer answer"), switch
# (customer moves into this stage from another), promise ("agent promise>>what the customer quotes later>>
# deadline rule").
# ------------------------------------------------------------------------------------------------------------
_FOOD = {
    "order": {
        "zh": {
            "doubt": "请问下单以后还能改地址吗？>>查到商家目前还没有出餐，地址还可以修改。"
                     ">>已经帮您把地址改好了，骑手会按新地址送。>>好的，新地址我们记下了。"
                     "|为什么显示超出配送范围了，上周还能点的？>>系统显示您的位置距离商家{km}公里，"
                     "超出了商家现在设置的配送范围。>>已经帮您反馈给商家，先给您发了一张{coupon}元红包，"
                     "您可以看看附近同类的店。>>最近骑手少，配送范围临时缩小了。"
                     "|下单的时候忘了写备注，现在还能改吗？>>这边看到订单刚提交给商家，还没有出餐。"
                     ">>已经帮您联系商家，备注加上了。>>收到，不放香菜是吧，已经备注了。",
            "defect": "我地址填错了，定位跑到隔壁小区去了。>>查到订单还在商家备餐，骑手还没有取餐。"
                      ">>已经帮您把地址改好了，骑手会按新地址送。>>好的，地址我们跟骑手说一下。"
                      "|点错了，本来要大份的结果下成了小份。>>这边看到订单已经提交给商家了，"
                      "商品不能直接修改。>>已经联系商家帮您换成大份，差价{diff}元商家不收了。>>可以，"
                      "给您做大份的。"
                      "|下单页面的价格和付款时候的不一样。>>查到付款时商家的活动刚好结束，所以价格变了。"
                      ">>差价{diff}元已经给您退回了。",
            "blockage": "一直下不了单，点提交就提示网络异常。>>这边看到刚才系统有短暂的波动，"
                        "现在已经恢复了。>>您现在重新提交一下试试，另外给您发了一张{coupon}元的红包。"
                        "|差两块钱不够起送，加了菜还是下不了单。>>查到这家店的起送价是按优惠后的金额算的。"
                        ">>加一份饮料就够起送了，另外给您发了一张{coupon}元无门槛红包。"
                        "|改地址的按钮是灰的，根本点不了。>>订单已经进入备餐状态，APP上不能自助修改地址了。"
                        ">>我这边帮您联系了商家和骑手，地址已经改好了。>>好的，改地址了是吧，"
                        "我们给骑手备注。",
            "follow": "那现在还能改吗？|我不想取消重下，红包会没了。|那我要怎么操作？",
            "qa": "请问您要改成哪个地址呢？>>改成公司吧，写字楼一楼前台。"
                  "|您是在APP还是小程序下的单？>>APP上下的。"
                  "|请问是哪个菜需要修改？>>{item}要大份的。",
        },
        "en": {
            "doubt": "Can I still change the address after placing the order?>>The restaurant has not start"
                     "ed cooking yet, so the address can still be changed.>>I have updated the address, the"
                     " rider will deliver to the new one.>>OK, we'll note the new address.",
            "defect": "I entered the wrong address when I ordered.>>The rider has not picked up the order y"
                      "et.>>I have changed the address, the rider will deliver to the new one.>>OK, we'll t"
                      "ell the rider.",
            "blockage": "I can't place my order, it keeps saying network error.>>There was a short system p"
                        "roblem, it's fixed now.>>Please try again, and I've added a {coupon} yuan voucher "
                        "for the trouble.",
            "follow": "Can you still change it now?|What should I do then?",
            "qa": "Which address should it go to?>>My office, the front desk on the first floor."
                  "|Did you order in the app?>>Yes, in the app.",
        },
    },
    "payment": {
        "zh": {
            "doubt": "我付款成功了，为什么订单还显示待支付？>>系统显示这笔款项支付平台还在处理中。"
                     ">>订单已经帮您补上了，显示支付成功了。"
                     "|钱扣了订单没生成，这钱去哪了？>>查到这笔支付没有生成订单，系统会自动退款。"
                     ">>这笔钱已经给您原路退回，1到3个工作日到账。"
                     "|请问免密支付怎么关掉？>>免密支付可以在“我的-设置-支付设置”里关闭。"
                     ">>我这边已经帮您关掉了，以后付款都需要输入密码。",
            "defect": "扣了两次钱，订单只有一个。>>查到您这边确实有两笔支付记录，其中一笔是重复支付。"
                      ">>重复扣的那笔已经给您原路退回了，1到3个工作日到账。"
                      "|用了红包抵扣，结果扣的是原价。>>这边看到红包没有抵扣成功，按原价扣款了。"
                      ">>多扣的{diff}元已经退回到您的支付账户。",
            "blockage": "付款一直失败，换了支付宝也不行。>>这边看到支付渠道刚才有短暂的故障。"
                        ">>现在已经恢复了，订单帮您保留十五分钟，您再付一下试试。"
                        "|微信支付老提示系统繁忙，付不了。>>查到是微信支付那边的通道在维护。"
                        ">>您可以先换成余额支付，订单已经帮您保留了。"
                        "|一点支付就闪退。>>这边看到您的APP版本比较旧。>>升级到最新版本就可以正常支付了，"
                        "订单已经帮您保留十五分钟。",
            "follow": "那多扣的钱什么时候退回来？|我银行卡里确实少了两笔。|那我现在到底要不要重新付？",
            "qa": "请问您是用什么方式支付的？>>微信支付。|扣款的时间大概是几点？>>十二点左右。"
                  "|方便看一下银行的扣款短信吗？>>我看了，是两条扣款短信。",
        },
        "en": {
            "doubt": "I paid but the order still says unpaid.>>The payment is still being processed by the "
                     "payment platform.>>Your order is now marked as paid.",
            "defect": "I was charged twice for one order.>>I can see two payments for this order, one of th"
                      "em is a duplicate.>>The duplicate charge has been refunded to your original payment "
                      "method, it takes 1 to 3 working days.",
            "blockage": "The payment keeps failing.>>There was a short problem with the payment channel.>>I"
                        "t works again now, I've kept your order for fifteen minutes so you can pay.",
            "follow": "When will I get the extra charge back?|My bank shows two charges.",
            "qa": "How did you pay?>>WeChat Pay.|Around what time were you charged?>>Around noon.",
        },
    },
    "merchant_accept": {
        "zh": {
            "doubt": "下单半小时了，商家怎么还没接单？>>这边看到商家目前订单比较多，还没有处理您的订单。"
                     ">>我已经联系了商家，商家已经接单了，马上给您做。>>不好意思，刚才太忙没看到，"
                     "现在马上接单。"
                     "|一直显示待接单，是不是店铺休息了？>>查到商家今天下午临时歇业了，系统没有及时关店。"
                     ">>订单已经帮您取消，钱原路退回，另外给您补了一张{coupon}元红包。>>今天师傅请假了，"
                     "不好意思，做不了。"
                     "|商家为什么把我的单取消了？>>系统显示商家因为食材不足取消了订单。>>钱已经原路退回，"
                     "另外给您补了一张{coupon}元红包。>>抱歉，今天{item}的食材用完了，做不了。",
            "defect": "商家把我的单取消了，也没说原因。>>查到商家是因为爆单取消的，这个不符合规定。"
                      ">>已经对商家做了记录，钱原路退回，另外补偿您{coupon}元红包。>>太忙了实在做不过来，"
                      "对不起。"
                      "|商家接了单又说打烊了不做了。>>这边看到商家接单后二十分钟取消了订单。"
                      ">>已经全额退款，并给您补偿了{coupon}元红包。>>我们到点关门了，系统忘了关。",
            "blockage": "商家电话打不通，一直没人接。>>这边联系商家也没有接通。>>已经帮您取消订单，"
                        "钱原路退回，不会扣任何费用。"
                        "|一直卡在待接单，想取消也取消不了。>>查到订单状态卡住了，是系统同步的问题。"
                        ">>已经帮您强制取消，钱原路退回。",
            "follow": "那到底还做不做？我等着吃饭呢。|那我不是白等了？|我都等了{minutes}分钟了。",
            "qa": "请问您下单大概多久了？>>快半个小时了。|您这边还需要这份餐吗？>>要的，我就想吃这家。",
        },
        "en": {
            "doubt": "It's been half an hour and the restaurant still hasn't accepted my order.>>The restau"
                     "rant is very busy and has not processed your order yet.>>I contacted the restaurant a"
                     "nd they have accepted your order now.>>Sorry, we were too busy, accepting it now.",
            "defect": "The restaurant cancelled my order without giving any reason.>>The restaurant cancell"
                      "ed the order because they ran out of ingredients.>>The money goes back to you, and I"
                      " added a {coupon} yuan voucher.>>Sorry, we ran out of {item}.",
            "blockage": "I can't reach the restaurant, nobody answers the phone.>>I couldn't reach the rest"
                        "aurant either.>>I've cancelled the order for you free of charge, the money goes ba"
                        "ck to you.",
            "follow": "So are they making it or not?|I've been waiting for {minutes} minutes.",
            "qa": "How long ago did you place the order?>>About half an hour ago.",
        },
    },
    "cooking": {
        "zh": {
            "doubt": "商家一直显示备餐中，都四十分钟了还没出餐。"
                     ">>这边看到商家已经超过约定出餐时间{minutes}分钟了。>>已经帮您催过商家了，"
                     "商家说五分钟内出餐，骑手已经在店里等着。>>马上好马上好，今天单子太多了，"
                     "已经在打包了。"
                     "|能不能帮我催一下出餐？>>商家反馈现在单量比较大，出餐会慢一些。>>已经帮您催过了，"
                     "商家说十分钟内出餐。>>收到，马上给您加急做。"
                     "|出餐超时了有没有赔付？>>查到商家出餐确实超过了约定时间。>>商家出餐超时，"
                     "已经给您赔付了{coupon}元红包。",
            "defect": "商家打电话说{item}卖完了，非要给我换菜。>>这边看到商家确实反馈{item}缺货了。"
                      ">>不想换的话，{item}这部分已经给您退款了，其他的照常做。>>不好意思，{item}没有了，"
                      "给您换个别的行吗？"
                      "|骑手都到店了，店里说还没做好。>>查到骑手已经在店里等了十几分钟。"
                      ">>已经催商家优先出您的餐，另外给您补了{coupon}元红包。>>马上好，已经在装盒了。",
            "blockage": "一直卡在备餐中，想取消也取消不了。>>订单已经在备餐，需要商家同意才能取消。"
                        ">>已经联系商家同意取消，钱原路退回。>>可以取消，还没下锅。"
                        "|商家不回消息，也不出餐。>>这边打电话给商家也没有接通。"
                        ">>已经帮您取消订单并全额退款，另外给您补偿了{coupon}元红包。",
            "follow": "到底什么时候能做好？|我赶时间，一会儿还要出门。|换的菜我不想要。",
            "qa": "请问是哪家店呢？>>{shop}。|您这边是想继续等还是取消？>>先催一下吧，实在不行再说。",
        },
        "en": {
            "doubt": "The restaurant has been preparing my food for 40 minutes.>>The restaurant is {minutes"
                     "} minutes past its promised cooking time.>>I chased the restaurant, the food will be "
                     "ready in five minutes and the rider is waiting there.>>It's almost ready, we're packi"
                     "ng it now.",
            "defect": "The restaurant says they're out of {item} and want to swap it.>>The restaurant confi"
                      "rms the {item} is out of stock.>>I've refunded the {item}, the rest of the order goe"
                      "s ahead.>>Sorry, no more {item} today.",
            "blockage": "It's stuck on preparing and I can't cancel it.>>The restaurant has to agree before"
                        " the order can be cancelled.>>The restaurant agreed, the order is cancelled and th"
                        "e money goes back to you.>>OK, we haven't started it yet.",
            "follow": "When will it be ready?|I'm in a hurry, I have to go out soon.",
            "qa": "Which restaurant is it?>>{shop}.",
        },
    },
    "pickup": {
        "zh": {
            "doubt": "餐早就做好了，为什么一直没有骑手接单？>>这边看到附近骑手比较紧张，系统还在派单。"
                     ">>已经帮您加急派单，现在有骑手接单了，预计{eta}送达。>>我刚接的单，马上去店里取。"
                     "|为什么一直在分配骑手？>>查到现在是高峰期，附近的骑手都在送单。>>已经帮您加急派单，"
                     "骑手已经接单了。>>接到了，我送完手上这单就去取。"
                     "|显示骑手已取餐，可商家说还没来。>>查到骑手提前点了取餐，目前还在路上。"
                     ">>已经提醒骑手尽快到店，这个情况我们会处理。>>不好意思，我点错了，五分钟就到店。",
            "defect": "骑手取错餐了，拿成别人的了。>>查到骑手刚才取错了订单，已经返回店里了。"
                      ">>已经通知骑手回店取正确的餐，给您补偿了{coupon}元红包。>>我刚拿错了，马上回去换。"
                      "|商家说餐在店里放了二十分钟，骑手都没来取餐。>>这边看到骑手手上还有三单没送完。"
                      ">>已经给您改派了新的骑手，预计{eta}送达，另外补偿{coupon}元红包。>>我这边单子多，"
                      "实在过不去，麻烦改派吧。",
            "blockage": "一直没骑手接单，取消又要扣钱。>>查到订单一直没有骑手接单，这种情况取消不扣费。"
                        ">>已经帮您免费取消了，钱原路退回。"
                        "|分配骑手分配了半个小时还是没有。>>这边看到附近暂时没有空闲的骑手。"
                        ">>已经帮您加急派单，现在有骑手接了，预计{eta}送到。>>接到了，马上过去。",
            "follow": "那餐在店里都凉了。|到底什么时候能有骑手？|那我自己去取行不行？",
            "qa": "请问您方便自己到店取吗？>>太远了，去不了。"
                  "|您看一下APP上现在显示什么状态？>>还是显示正在分配骑手。",
        },
        "en": {
            "doubt": "The food is ready but no rider has picked it up.>>There are few riders nearby, the sy"
                     "stem is still dispatching.>>I've prioritised the dispatch, a rider has accepted it an"
                     "d it should arrive by {eta}.>>Just got the order, heading to the restaurant.",
            "defect": "The rider picked up the wrong order.>>The rider took the wrong bag and is going back"
                      " to the restaurant.>>The rider will bring the right order, and I've added a {coupon}"
                      " yuan voucher.>>Sorry, I took the wrong bag, going back now.",
            "blockage": "No rider accepts my order and I can't cancel without a fee.>>Since no rider accept"
                        "ed it, cancelling is free.>>I've cancelled it for you free of charge.",
            "follow": "The food is getting cold at the restaurant.|Can I pick it up myself?",
            "qa": "What does the app show now?>>It still says assigning a rider.",
        },
    },
    "delivery": {
        "zh": {
            "doubt": "骑手怎么还没到，都超时{minutes}分钟了。>>查到骑手现在距离您{km}公里，手上还有两单。"
                     ">>已经帮您催了骑手，骑手说十分钟内送到，超时部分准时宝会赔付{coupon}元红包。"
                     ">>不好意思，前面还有两单，送完马上到。"
                     "|预计送达时间都过了，送到哪了？>>骑手反馈路上堵车，预计{eta}送到。>>已经催过骑手了，"
                     "超时的部分会按准时宝给您赔付{coupon}元红包。>>不好意思，路上堵车，马上到了。"
                     "|地图上骑手的位置一直不动，是怎么回事？>>查到骑手的定位信号不太好，"
                     "实际已经在您附近了。>>骑手已经在您楼下了，请您留意电话。>>我到楼下了，"
                     "定位一直没刷新。"
                     "|超时了准时宝怎么赔？>>系统显示订单已经超时{minutes}分钟，符合准时宝赔付。"
                     ">>赔付的{coupon}元红包已经发到您账户了。",
            "defect": "骑手在附近绕了好几圈还没送过来。>>这边看到骑手找不到您的楼栋。"
                      ">>已经把详细的楼栋位置发给骑手了，骑手马上送到。>>你们小区楼号太乱了，"
                      "我找不到3号楼。"
                      "|骑手先送别人的单，把我的晾着。>>查到骑手顺路先送了另一单。>>已经提醒骑手先送您的，"
                      "超时部分赔付{coupon}元红包。>>顺路先送了一单，马上就到您这。"
                      "|骑手打电话让我自己下楼拿，还很凶。>>这边已经记录了骑手的服务态度问题。"
                      ">>已经对骑手做了处理，另外给您补偿{coupon}元红包。>>我在你们小区门口，门卫不让进，"
                      "只能麻烦你下来拿。",
            "blockage": "骑手电话打不通，联系不上骑手。>>这边联系骑手也没有接通，定位显示他正在骑车。"
                        ">>已经给骑手发了消息，骑手回复五分钟内送到。>>刚才在骑车没接到，马上到了。"
                        "|骑手电话一直占线，消息也不回。>>查到骑手一直在通话中。>>已经联系上骑手了，"
                        "骑手说马上给您送上去。>>刚才在跟别的顾客打电话，马上到。",
            "follow": "那他到底还要多久？|孩子还饿着呢。|我赶时间，一会儿还要出门。"
                      "|刚才说十分钟，现在又过了十分钟了。",
            "qa": "请问您现在是在订单地址等着吗？>>对，我在家等着呢。|您收货地址是几号楼？>>3号楼2单元。"
                  "|您方便接听骑手电话吗？>>可以，手机一直开着。",
        },
        "en": {
            "doubt": "My rider still hasn't arrived and it's {minutes} minutes late.>>The rider is {km} km "
                     "away from you with two other orders.>>I've chased the rider, he will be there in ten "
                     "minutes and you'll get a {coupon} yuan late-delivery voucher.>>Sorry, traffic is heav"
                     "y, almost there."
                     "|Where is my order? The estimated time has passed.>>The rider says the traffic is bad"
                     " and expects to arrive by {eta}.>>I've chased the rider and added a {coupon} yuan vou"
                     "cher for the delay.>>Almost there, sorry for the wait.",
            "defect": "The rider has been circling around the area and still hasn't delivered.>>The rider c"
                      "an't find your building.>>I've sent the rider the exact location, he'll be there sho"
                      "rtly.>>I can't find building 3, the numbers are confusing.",
            "blockage": "I can't reach the rider, the phone is always busy.>>I couldn't reach the rider eit"
                        "her, he seems to be riding.>>I've messaged the rider, he replied he'll be there in"
                        " five minutes.>>Sorry, I was riding, almost there.",
            "follow": "How much longer will it take?|I'm in a hurry, I have to go out soon.",
            "qa": "Are you waiting at the delivery address?>>Yes, I'm at home.",
        },
    },
    "receiving": {
        "zh": {
            "doubt": "显示已送达，可是我根本没收到。>>查到骑手是{eta}点的已送达，"
                     "送达照片拍的是另一个门牌号。>>已经让骑手回去取了给您送过来，另外补偿{coupon}元红包。"
                     ">>不好意思，我送错楼了，马上给您拿回来。"
                     "|骑手说放门口了，我怎么没看到？>>骑手反馈放在了小区外卖柜。>>已经把柜子号发给您了，"
                     "您去外卖柜取一下就行。>>我放在外卖柜了，柜子号是12号。"
                     "|为什么订单显示已送达，我还在等呢？>>这边看到骑手提前点了送达，实际还在路上。"
                     ">>已经提醒骑手马上送到，提前点送达的问题我们会处理。>>马上到了，刚才点错了。",
            "defect": "少送了一份{item}。>>商家说出餐时{item}是打包了的，可能是漏装了。"
                      ">>少送的{item}已经给您退款了，另外补偿{coupon}元红包。"
                      "|汤全洒了，袋子里都是汤。>>查到商家的打包没有封口，路上洒了。"
                      ">>洒漏的这份给您全额退款了。"
                      "|送错了，这不是我点的。>>查到骑手把两个订单送反了。>>已经让商家给您重新做一份，"
                      "骑手会尽快送过去。>>我送反了，马上换回来。"
                      "|封口贴是破的，包装被打开过。>>这边已经记录了，会核查骑手的配送过程。"
                      ">>这单已经给您全额退款，食品安全要紧，建议您不要食用。",
            "blockage": "骑手放门口就走了，我出来就没了，电话也打不通。>>查到送达照片显示放在了门口。"
                        ">>已经给您全额退款，也会核查这单的配送情况。"
                        "|点了确认收货才发现少东西，现在申请不了售后。"
                        ">>这边看到订单确认收货后自助售后入口关闭了。>>我这边直接帮您处理，"
                        "少的部分已经退款了。",
            "follow": "那我这顿饭怎么办？|我家门口什么都没有。|你们自己看看照片。",
            "qa": "请问是少了哪一样？>>{item}没有。|方便拍张照片上传一下吗？>>好，我现在拍。"
                  "|您家门口和前台都找过了吗？>>都找过了，没有。",
            "promise": "商家会重新给您做一份，一个小时内给您送到。>>一个小时内重新送到>>h1",
        },
        "en": {
            "doubt": "It says delivered but I never got it.>>The rider marked it delivered at {eta}, but th"
                     "e photo shows a different door number.>>The rider is going back to bring it to you, a"
                     "nd I've added a {coupon} yuan voucher.>>Sorry, wrong building, bringing it now.",
            "defect": "One {item} is missing.>>The restaurant may have forgotten to pack it.>>I've refunded"
                      " the missing {item} and added a {coupon} yuan voucher."
                      "|The soup spilled all over the bag.>>The package was not sealed properly.>>I've refu"
                      "nded this order in full.",
            "blockage": "The rider left and I can't reach him to find my food.>>The delivery photo shows yo"
                        "ur door.>>I've given you a full refund and we will check this delivery.",
            "follow": "So what am I supposed to eat now?|There's nothing at my door.",
            "qa": "Which item is missing?>>The {item}.|Could you upload a photo?>>Sure, doing it now.",
        },
    },
    "eating": {
        "zh": {
            "doubt": "这个吃起来酸酸的，是不是坏了？>>这边已经记录了，会反馈给商家核查。"
                     ">>为了安全建议您不要再吃了，这单已经给您全额退款。>>我们的菜都是当天做的，"
                     "可能是醋放多了。"
                     "|吃完有点拉肚子，是不是食品安全有问题？>>查到这家店近期也有类似的反馈。"
                     ">>已经给您全额退款，如果您去医院就诊，凭票据可以申请额外赔付。"
                     ">>我们的食材都是新鲜的，应该不是我们的问题。"
                     "|分量怎么比图片上少了一半？>>查到商家的图片确实和实际分量不一致。"
                     ">>已经给您退了一半的钱，也会要求商家修改图片。>>图片是两人份的，单点就是这么多。",
            "defect": "吃到一半发现里面有根头发。>>照片已经收到了，这边看到确实有异物。"
                      ">>这单已经给您全额退款，并且会对商家进行处理。>>不好意思，是我们后厨的问题，"
                      "给您退款。"
                      "|这个肉是馊的，根本不新鲜。>>这边已经记录了，会反馈给商家和食品安全部门。"
                      ">>已经给您全额退款，另外赔付{coupon}元红包。>>我们的菜都是当天做的，不可能不新鲜。"
                      "|鸡肉中间都没熟，还带血。>>照片收到了，确实没有熟透。>>已经给您退了这道菜的钱，"
                      "另外赔付{coupon}元红包。>>抱歉，今天火候没控制好。"
                      "|菜里吃出一个虫子。>>照片已经收到了，这边看到确实有异物。>>这单已经全额退款，"
                      "商家会被下架整改。",
            "blockage": "想申请食品安全问题的售后，页面一直提交不了。>>这边看到售后页面上传图片有故障。"
                        ">>我这边直接帮您登记了，已经全额退款。"
                        "|商家不承认，说不是他们家的问题。>>商家拒绝了您的售后申请。>>已经由平台介入判定，"
                        "给您全额退款。>>我们家的菜不可能有问题。",
            "follow": "我都吃了一半了才发现。|我有照片，你们自己看。|万一吃出毛病谁负责？",
            "qa": "方便上传一下照片吗？>>已经传了，你看看。|请问您现在身体有不舒服吗？>>肚子有点疼。"
                  "|请问是哪一道菜？>>{item}。",
        },
        "en": {
            "doubt": "I have a stomach ache after eating, is it food poisoning?>>We've had similar reports "
                     "about this restaurant recently.>>I've given you a full refund, and you can claim extr"
                     "a compensation with a hospital receipt.",
            "defect": "I found a hair in my {item}.>>I've received the photo and I can see the foreign obje"
                      "ct.>>I've given you a full refund and we will deal with the restaurant.>>Sorry, it w"
                      "as a kitchen mistake, we'll refund you."
                      "|The chicken is undercooked, still pink inside.>>The photo shows it's not cooked thr"
                      "ough.>>I've refunded that dish and added a {coupon} yuan voucher.",
            "blockage": "I can't submit the food safety complaint, the page won't load.>>There is a problem"
                        " with the photo upload.>>I've registered it for you and given you a full refund.",
            "follow": "I already ate half of it.|I have photos.",
            "qa": "Could you upload a photo?>>Uploaded, please check."
                  "|Are you feeling unwell?>>My stomach hurts a bit.",
        },
    },
    "review": {
        "zh": {
            "doubt": "我写的评价怎么不显示？>>查到您的评价因为带了图片，正在审核中。>>已经帮您加急审核，"
                     "评价已经显示了。"
                     "|评价写错了，能改评价吗？>>评价发布后七天内可以修改一次。"
                     ">>已经帮您把修改评价的入口重新打开了。"
                     "|说好的好评返现怎么一直没给？>>好评返现是商家自己的活动，平台不支持这种做法。"
                     ">>已经提醒商家，也会对商家诱导好评的行为做处理。>>返现我们今天就给您转。",
            "defect": "商家一直打电话骚扰我，让我删差评。>>这边看到商家确实多次联系了您。"
                      ">>已经对商家做了警告，后面不会再打扰您了。>>我们就是想了解一下情况，没有别的意思。"
                      "|我的追评被屏蔽了。>>查到追评里有联系方式，被系统自动屏蔽了。"
                      ">>去掉联系方式后已经帮您恢复显示了。"
                      "|商家在评价下面回复骂我。>>这边看到商家的回复确实有不文明用语。"
                      ">>商家的回复已经删除，也对商家做了处罚。>>好的，我们不会再这样回复顾客了。",
            "blockage": "评价一直提交不了，点了没反应。>>这边看到是评价页面的故障，技术正在修复。"
                        ">>已经修复好了，您再提交一下试试。"
                        "|我想删掉评价，找不到删除的地方。>>删除入口在“我的-评价”里，向左滑就能看到。"
                        ">>我这边已经帮您把评价删除了。",
            "follow": "一天打了五个电话，我还要不要上班了？|我就是实话实说，凭什么不给显示？"
                      "|那我的评价还能恢复吗？",
            "qa": "请问商家是通过什么方式联系您的？>>打电话，用的是虚拟号。"
                  "|您的评价是什么时候发的？>>前天晚上。",
        },
        "en": {
            "doubt": "Why isn't my review showing?>>Your review is under moderation because it contains pho"
                     "tos.>>I've sped up the moderation, your review is visible now.",
            "defect": "The restaurant keeps calling me to delete my review.>>I can see the restaurant conta"
                      "cted you several times.>>We've warned the restaurant, they won't contact you again.>"
                      ">We only wanted to understand what happened.",
            "blockage": "I can't submit my review, nothing happens when I tap.>>There is a bug on the revie"
                        "w page.>>It has been fixed, please try again.",
            "follow": "They called me five times today.|I only wrote the truth.",
            "qa": "How did the restaurant contact you?>>By phone, through the masked number.",
        },
    },
    "refund": {
        "zh": {
            "doubt": "退款什么时候能到账？>>查到退款已经在处理中，预计1到3个工作日到账。"
                     ">>退款已经加急处理，今天之内会到账。"
                     "|钱退到哪里了，我微信没收到。>>这边看到退款已经退到您的微信零钱了。"
                     ">>您看一下微信零钱明细，{amount}元是今天上午到账的。"
                     "|请问退款进度怎么样了？>>查到退款审核已经通过，正在退回。>>已经帮您加急，"
                     "预计两个小时内到账。",
            "defect": "只给我退了一部分，我要全额退款。>>查到商家只同意了部分退款。"
                      ">>已经帮您申请了平台介入，剩下的{diff}元也给您退了。"
                      "|我申请了退款，为什么被驳回了？>>您的退款申请商家拒绝了，理由是餐品已经送达。"
                      ">>已经帮您申请了平台介入，全额退款{amount}元，原路退回。"
                      "|退款金额不对，少退了{diff}块。>>查到少退的是配送费和包装费。"
                      ">>剩下的{diff}元已经给您补退了。",
            "blockage": "申请售后三天了还没人处理。>>这边看到您的售后申请一直在商家那边待处理。"
                        ">>已经由平台直接处理，全额退款原路退回。"
                        "|退款申请提交不了，一直提示失败。>>查到这个订单超过了自助售后的时限。"
                        ">>我这边直接帮您提交了，退款{amount}元已经在处理中。",
            "follow": "那到底能不能全额退？|我要的是退款，不是红包。|三天了还没到账。",
            "qa": "请问您是原路退回还是退到余额？>>原路退回。"
                  "|请问申请退款的原因是什么呢？>>餐有问题，没法吃。",
            "switch": "算了，我不要了，直接给我退款吧。|不等了，这单帮我全部退款。|那你把钱退给我吧。",
            "promise": "退款明天中午之前一定到账。>>明天中午之前退款到账>>noon_next",
        },
        "en": {
            "doubt": "When will I get my refund?>>The refund is being processed and should arrive in 1 to 3"
                     " working days.>>I've marked it urgent, it will arrive today.",
            "defect": "I only got a partial refund, I want the full amount.>>The restaurant only agreed to "
                      "a partial refund.>>We've stepped in and refunded the remaining {diff} yuan."
                      "|Why was my refund request rejected?>>The restaurant rejected your refund because th"
                      "e order was delivered.>>We've stepped in and refunded the full {amount} yuan to your"
                      " original payment method.",
            "blockage": "I can't submit the refund request.>>The self-service window for this order has clo"
                        "sed.>>I've submitted it for you, the refund of {amount} yuan is being processed.",
            "follow": "So can I get a full refund or not?|I want my money back, not a voucher.",
            "qa": "Should the refund go back to your original payment method?>>Yes please.",
            "switch": "Forget it, just refund the order.|I don't want it anymore, give me my money back.",
        },
    },
    "coupon": {
        "zh": {
            "doubt": "我的红包怎么用不了？>>查到这张红包限定在指定商家使用。"
                     ">>给您换了一张{coupon}元的通用红包，所有店都能用。"
                     "|会员红包什么时候到账？>>这边看到会员红包每周一上午发放。>>这周的已经帮您补发了，"
                     "您刷新一下就能看到。"
                     "|这个无门槛红包是不是过期了？>>这边看到红包已经在昨天二十四点过期了。"
                     ">>已经给您重新补发了一张{coupon}元的红包，有效期七天。",
            "defect": "说好给我补偿的红包一直没到账。>>查到补偿红包发放失败了。"
                      ">>已经给您重新补发了一张{coupon}元的红包，有效期七天。"
                      "|会员红包突然过期了，我明明还没用。>>查到这批红包的有效期显示有误。"
                      ">>已经给您补发了同样面额的红包。"
                      "|下单没用上红包，多付了{diff}块。>>这边看到下单时红包没有自动勾选。"
                      ">>多付的{diff}元已经给您退回了。",
            "blockage": "无门槛红包下单的时候显示不可用。>>查到这类红包暂时不能和满减叠加。"
                        ">>已经给您退回了{coupon}元差价，红包也给您保留了。"
                        "|膨胀神券点了没反应，领不了。>>这边看到活动页面刚才有故障。>>已经帮您手动领取了，"
                        "您在红包列表里可以看到。",
            "follow": "那红包能不能补给我？|我就是冲着这个红包才下单的。|过期了总不能让我认倒霉吧。",
            "qa": "请问是哪一张红包呢？>>{coupon}元那张无门槛的。|您下单的是哪家店？>>{shop}。",
            "switch": "另外说好补偿我的红包也没到。|还有，我的红包也用不了。",
            "promise": "补偿红包明天会发到您的账户。>>明天把红包发给我>>next_day",
        },
        "en": {
            "doubt": "Why can't I use my coupon?>>This coupon can only be used at selected restaurants.>>I'"
                     "ve swapped it for a {coupon} yuan voucher that works everywhere.",
            "defect": "The compensation voucher you promised never arrived.>>The voucher failed to send.>>I"
                      "'ve issued a new {coupon} yuan voucher, valid for seven days.",
            "blockage": "The coupon says unavailable at checkout.>>It can't be combined with the current di"
                        "scount.>>I've refunded {coupon} yuan to you and kept the coupon.",
            "follow": "Can you give me the coupon back?|I only ordered because of that coupon.",
            "qa": "Which coupon is it?>>The {coupon} yuan one with no minimum.",
            "switch": "Also, the voucher you promised me never arrived.",
        },
    },
}

_HOTEL = {
    "booking": {
        "zh": {
            "doubt": "请问这个房型含早餐吗？>>查到这个房型不含早，可以加购早餐。>>早餐已经帮您加上了，"
                     "每份{diff}元。>>可以的，早餐给您加上。"
                     "|能不能帮我加个床？>>这边问了酒店，这个房型可以加床。>>已经帮您备注加床了，"
                     "到店付加床费就可以。>>可以加床，一百块一晚，到店付。"
                     "|为什么同一个房间刚才三百多，现在变成五百了？>>价格变动是因为酒店调整了周末房价。"
                     ">>已经帮您申请了原价，差价{diff}元会退回。>>周末房价是系统自动调的，"
                     "这次可以按原价给您。",
            "defect": "我订错房型了，想换成{room}。>>查到这个房型在{date}目前还有房。"
                      ">>已经帮您改成{room}了，差价{diff}元已经退回。>>可以的，{date}的{room}给您留着。"
                      "|日期订错了，应该是{date}入住。>>这边看到订单还没有入住，可以修改日期。"
                      ">>已经为您修改好入住日期，订单号不变。>>可以，日期我们这边也改了。"
                      "|订的时候写着含早，订单里却没有早餐。>>查到是酒店上传的房型信息有误。"
                      ">>早餐已经帮您加上了，不另外收费。>>是我们信息填错了，早餐给您补上。",
            "blockage": "为什么显示满房订不了？>>酒店这边房态显示{room}已经订满了。>>已经帮您联系酒店，"
                        "酒店给您留了一间，订单已经生成。>>还有一间预留房，可以给您。"
                        "|我想连住三晚，系统只让订一晚。>>查到这个房型第二晚以后的库存没有上传。"
                        ">>已经帮您连订三晚，价格按第一晚计算。>>可以，三晚都给您留着。"
                        "|订单提交的时候一直报错。>>这边看到刚才预订系统有短暂的故障。>>已经恢复了，"
                        "也帮您把订单下好了，订单号已经发到您手机。",
            "follow": "那现在还能改吗？|差价怎么算？|我下周就要出差了。",
            "qa": "请问您想哪天入住？>>{date}。|您要几间房？>>就一间{room}。"
                  "|请问入住人姓名和订单上一致吗？>>一致的。",
        },
        "en": {
            "doubt": "Does this room include breakfast?>>This room type doesn't include breakfast, but it c"
                     "an be added.>>I've added breakfast to your booking.>>Sure, we'll add breakfast.",
            "defect": "I booked the wrong room type.>>There is still availability for a {room} on {date}.>>"
                      "I've changed it to a {room} and refunded the difference of {diff} yuan.>>Yes, we'll "
                      "keep a {room} for you on {date}.",
            "blockage": "It says fully booked and I can't book.>>The hotel shows the {room} is fully booked"
                        ".>>The hotel released one room for you and the booking is made.>>We have one room "
                        "held back, it's yours.",
            "follow": "Can it still be changed?|How is the price difference calculated?",
            "qa": "Which date do you want to check in?>>{date}.|How many rooms?>>Just one {room}.",
        },
    },
    "payment": {
        "zh": {
            "doubt": "我选的到店付，为什么还扣了担保金？>>查到这笔是酒店收取的担保金，离店后会解冻。"
                     ">>已经联系酒店取消担保，冻结的钱会尽快释放。"
                     "|钱扣了订单还显示待支付，怎么回事？>>支付渠道显示这笔还在处理中。"
                     ">>订单已经同步为支付成功了。"
                     "|预授权冻结的钱什么时候解冻？>>查到预授权会在离店后七个工作日内解冻。"
                     ">>已经帮您催酒店提前解冻了，一般两三天到账。",
            "defect": "房费扣了两次。>>这边看到确实有两笔扣款，其中一笔是重复支付。>>重复扣款已经原路退回，"
                      "1到3个工作日到账。"
                      "|信用卡被冻结了{amount}块预授权，说好不冻结的。>>查到是酒店误操作做了预授权。"
                      ">>已经联系酒店撤销，冻结的额度会尽快释放。"
                      "|付款金额比订单多了{diff}元。>>这边看到多出来的是服务费，页面上没有提示清楚。"
                      ">>多收的{diff}元已经退回给您了。",
            "blockage": "付款一直提示支付失败。>>这边看到支付渠道刚才有短暂的故障。>>现在已经恢复了，"
                        "订单给您保留了半个小时，您再付一下就行。"
                        "|信用卡担保一直验证不通过。>>查到是银行那边的验证没有通过。"
                        ">>已经给您改成了到店付，不需要担保了。"
                        "|一点付款就闪退。>>这边看到您的APP版本比较旧。>>升级到最新版本就可以正常付款了，"
                        "订单已经帮您保留。",
            "follow": "多扣的钱什么时候退？|卡里的额度都被占了。|那订单到底有没有生效？",
            "qa": "请问您是用什么方式付款的？>>信用卡。|请问扣款是哪天？>>昨天晚上。",
        },
        "en": {
            "doubt": "I chose pay at hotel, why was a deposit charged?>>This is a guarantee held by the hot"
                     "el, it is released after check-out.>>I've asked the hotel to cancel the guarantee, th"
                     "e hold will be released soon.",
            "defect": "I was charged twice for the same booking.>>I can see two charges, one is a duplicate"
                      ".>>The duplicate charge has been refunded, it takes 1 to 3 working days.",
            "blockage": "The payment keeps failing.>>There was a short problem with the payment channel.>>I"
                        "t works again now, your booking is held for thirty minutes.",
            "follow": "When will the extra charge be refunded?",
            "qa": "How did you pay?>>Credit card.",
        },
    },
    "confirmation": {
        "zh": {
            "doubt": "订单一直显示待确认，我今晚就要住。>>查到订单已经提交给酒店，酒店还没有回复确认。"
                     ">>我已经直接打电话给酒店，酒店确认给您留房了，确认号已经发到您手机。>>您好，"
                     "订单我们这边收到了，房间已经给您留好了。"
                     "|下单三个小时了还没收到确认短信。>>酒店那边确认需要人工处理，目前还在排队。"
                     ">>我直接联系了酒店，订单已经确认，短信重新发给您了。>>刚才前台太忙，现在已经确认了。"
                     "|酒店到底有没有确认，能给个准话吗？>>这边看到订单还在等酒店确认。"
                     ">>刚刚跟酒店通过电话，房间已经确认，您放心入住。>>确认了，房间给您留着。",
            "defect": "我到了酒店，前台说查不到我的订单。>>这边看到酒店系统没有同步到您的订单。"
                      ">>酒店已经查到您的订单了，您报手机号就可以办入住。>>系统没同步过来，"
                      "我们这边手工给客人补上。"
                      "|确认短信上的房型和我订的不一样。>>查到酒店确认的时候选错了房型。"
                      ">>已经联系酒店改成您订的{room}，新的确认短信已经发出。>>不好意思，是我们确认错了，"
                      "给您改过来。"
                      "|说是已确认，酒店说没这回事。>>这边看到确认记录是系统自动生成的，酒店那边没有留房。"
                      ">>酒店确认不了，已经帮您免费取消，并且协助您订了附近同价位的酒店。>>我们今天满房了，"
                      "没有收到这个订单。",
            "blockage": "酒店电话一直没人接，确认不了。>>这边也联系了酒店，暂时没有接通。"
                        ">>已经通过酒店集团的总台帮您确认了，房间已经留好。>>不好意思，前台电话刚才坏了。"
                        "|订单卡在待确认，想取消也取消不了。>>查到订单在等酒店确认的状态下不能自助取消。"
                        ">>已经帮您免费取消了，钱原路退回。",
            "follow": "我人已经在酒店大堂了。|我拖着行李站在门口呢。|这么晚了我去哪里找房间？"
                      "|都催了两次了。",
            "qa": "请问您预计几点到店？>>晚上九点左右。|请问入住人是您本人吗？>>是我本人。"
                  "|您现在在酒店前台吗？>>对，就在前台。",
            "promise": "我们会在两个小时内催酒店给您确认，并短信通知您。>>两个小时内给我确认>>h2",
        },
        "en": {
            "doubt": "My booking is still not confirmed and I arrive tonight.>>The booking was sent to the "
                     "hotel but the hotel has not confirmed it yet.>>I called the hotel directly and they c"
                     "onfirmed your room, the confirmation number has been sent to your phone.>>Hello, we'v"
                     "e received the booking and your room is reserved.",
            "defect": "I'm at the hotel and they say they can't find my booking.>>The hotel's system didn't"
                      " receive your booking.>>The hotel has found your booking now, just give them your ph"
                      "one number.>>Our system missed it, we've added it by hand.",
            "blockage": "The hotel doesn't answer the phone so nobody can confirm.>>I couldn't reach the ho"
                        "tel either.>>I confirmed it through the hotel group's central desk, your room is r"
                        "eserved.",
            "follow": "I'm standing in the lobby with my luggage.|Where am I supposed to sleep tonight?",
            "qa": "What time will you arrive?>>Around 9 pm."
                  "|Are you at the front desk now?>>Yes, right here.",
        },
    },
    "waiting": {
        "zh": {
            "doubt": "行程有变，这个订单能取消吗？>>查到这个订单在入住前一天十八点之前可以免费取消。"
                     ">>已经帮您取消了，钱原路退回。"
                     "|免费取消是到几点？>>免费取消的时间是入住前一天的十八点。>>您现在取消是免费的，"
                     "需要的话我直接帮您取消。"
                     "|想改期到下周末可以吗？>>这边问了酒店，下周末还有房。>>已经帮您改期到{date}，"
                     "不需要额外费用。>>可以改，下周末给您留房。"
                     "|我能不能晚一天入住？>>查到晚一天入住需要酒店同意。>>酒店同意了，"
                     "已经帮您改成晚一天入住。>>可以的，帮您改到后一天。",
            "defect": "取消要扣全款，太不合理了。>>查到这个订单属于不可取消的特价房。>>已经帮您和酒店沟通，"
                      "酒店同意只扣一晚的房费，剩下的退给您。>>这个是特价房，按规定不能取消，最多只扣一晚。"
                      "|页面上写的免费取消，取消的时候却要扣违约金。>>这边看到页面的取消政策显示有误。"
                      ">>已经按免费取消处理，违约金不用付，钱原路退回。>>可以，这次给客人免费取消。",
            "blockage": "为什么显示不可取消？>>查到这个订单属于不可取消的特价房。>>已经帮您和酒店沟通，"
                        "可以免费取消，钱原路退回。>>可以，这次给客人免费取消。"
                        "|改期按钮点不了。>>这边看到这个房型不支持自助改期。>>我这边帮您联系酒店改好了，"
                        "改到{date}。>>可以，日期已经改好了。"
                        "|取消申请提交了一直没有处理。>>这边看到酒店还没有处理您的取消申请。"
                        ">>已经催酒店处理，取消成功了，钱原路退回。>>刚看到，已经同意取消了。",
            "follow": "我这也是临时有事，不是故意的。|就差了几分钟，能不能通融一下？|那改期总可以吧？",
            "qa": "请问您是想取消还是改期呢？>>能改期就改期，不行就取消。|请问您想改到哪天？>>{date}。",
        },
        "en": {
            "doubt": "Can I cancel my booking for next week?>>Free cancellation is possible until 6 pm the "
                     "day before arrival.>>I've cancelled it for you, the money goes back to your original "
                     "payment method.",
            "defect": "They want to charge the full amount for cancelling, that's not fair.>>This is a non-"
                      "refundable special rate.>>The hotel agreed to charge only one night, the rest will b"
                      "e refunded.>>It's a special rate, but we can charge just one night.",
            "blockage": "The change date button doesn't work.>>This room type can't be changed in the app.>"
                        ">I've asked the hotel and moved your stay to {date}.>>Sure, the new date is fine.",
            "follow": "Something came up, it's not my fault.|Can I at least change the date?",
            "qa": "Do you want to cancel or change the date?>>Change it if possible.",
        },
    },
    "check_in": {
        "zh": {
            "doubt": "请问几点可以办入住？>>查到这家酒店下午两点以后可以办入住。>>已经帮您备注提前入住，"
                     "酒店说有空房可以先给您安排。>>有打扫好的房间可以先给您。"
                     "|入住需要交多少押金？>>这边问了酒店，押金是三百元，退房时退还。"
                     ">>押金可以用微信预授权，不用交现金。>>押金三百，可以刷微信。"
                     "|可以提前入住吗？>>查到酒店今天房间比较紧张。>>酒店答应十二点前给您安排好房间。"
                     ">>中午前给您打扫出来一间。",
            "defect": "房间特别脏，床单上有头发。>>酒店反馈保洁会马上过去重新打扫。>>已经安排换房，"
                      "另外退您一晚房费。>>保洁马上上去，您先在大堂休息一下。"
                      "|空调坏了，热水也没有。>>这边已经联系到酒店，维修师傅正在过去。"
                      ">>酒店已经给您换了一间，设施都是正常的，另外补偿您一份早餐。>>维修马上到，"
                      "不行就给您换房。"
                      "|房间和图片完全不符。>>查到这个房型的描述确实和实际不一致。"
                      ">>酒店已经给您免费升级到{room}了。>>不好意思，给您升级一下房型。"
                      "|隔音太差了，吵得一晚上没睡。>>酒店反馈您的房间靠近电梯。"
                      ">>已经帮您换到高层安静的房间，并退了一晚的房费。>>给您换到高层，那边安静。"
                      "|房间里一股烟味。>>这边联系了酒店，这一层是吸烟楼层。>>已经帮您换到无烟楼层了。"
                      ">>给您换到无烟房。",
            "blockage": "我到店了，前台说没有房了。>>这边已经联系到酒店，酒店说今天超售了。>>酒店无房，"
                        "已经帮您安排附近同等级酒店，差价由我们承担。>>不好意思，今天房间超售了，"
                        "给您安排到旁边的分店。"
                        "|前台不给办入住，说要等到下午两点。>>查到酒店规定的入住时间是下午两点。"
                        ">>酒店同意先给您办入住，房间打扫好马上安排。>>我们尽快给您打扫一间出来。"
                        "|前台说系统里没有我的信息，办不了入住。>>这边看到订单没有同步到酒店系统。"
                        ">>已经让酒店手工补录了订单，您现在可以办入住了。>>补上了，可以办入住了。",
            "follow": "我带着孩子在大堂等了一个小时。|这样的房间怎么住？|你们照片拍得那么好看。",
            "qa": "请问您现在在房间里吗？>>在房间里。|方便拍几张照片吗？>>可以，我现在拍。"
                  "|请问房间号是多少？>>{roomno}。",
        },
        "en": {
            "doubt": "What time can I check in?>>Check-in at this hotel starts at 2 pm.>>I've asked for ear"
                     "ly check-in, the hotel will give you a room as soon as one is ready.>>We'll have a ro"
                     "om ready for you soon.",
            "defect": "The room is really dirty, there's hair on the sheets.>>Housekeeping will come to cle"
                      "an the room again.>>You'll get a new room and one night refunded.>>Housekeeping is o"
                      "n the way, please rest in the lobby."
                      "|The air conditioning is broken and there's no hot water.>>The hotel is sending main"
                      "tenance now.>>The hotel has moved you to another room and added breakfast for free.>"
                      ">Maintenance is coming, or we'll move you.",
            "blockage": "The front desk says they have no room for me.>>The hotel says it is overbooked tod"
                        "ay.>>We've booked you a similar hotel nearby and we'll cover the difference.>>Sorr"
                        "y, we're overbooked, we'll send you to our sister hotel.",
            "follow": "I've been waiting in the lobby with my kids for an hour."
                      "|How can anyone stay in this room?",
            "qa": "Are you in the room now?>>Yes.|Could you take some photos?>>Sure.",
        },
    },
    "checkout": {
        "zh": {
            "doubt": "发票怎么开，我要开专票。>>发票需要离店后由酒店开具。>>已经帮您申请了专票，"
                     "开好后会发到您预留的邮箱。>>专票我们三个工作日内开好。"
                     "|押金多久能退回来？>>查到押金已经由酒店发起退还，银行处理需要几个工作日。"
                     ">>已经帮您催了，预计明天到账。>>押金昨天已经退了，银行处理需要时间。"
                     "|能不能延迟退房到两点？>>这边问了酒店，今天房间不紧张。>>酒店同意延迟到下午两点退房，"
                     "不收费。>>可以，两点前退房就行。",
            "defect": "退房三天了押金还没退。>>查到酒店漏掉了您的押金退款。>>酒店已经退了押金，"
                      "一般一到三个工作日到账。>>押金我们今天就给退，之前漏掉了。"
                      "|退房的时候多扣了{diff}块。>>酒店反馈是多算了一次早餐。"
                      ">>多扣的{diff}元酒店已经退回了。>>是我们算错了，马上退。"
                      "|账单里有迷你吧的消费，我根本没动过。>>酒店反馈迷你吧的消费是系统录错了。"
                      ">>迷你吧的费用已经取消，钱退回给您了。>>查过了，是录错了，给您退。",
            "blockage": "发票申请一直提交不了。>>这边看到发票页面的抬头信息填写有误。"
                        ">>我这边直接帮您提交了，发票开好会发到您的邮箱。"
                        "|充电器落在房间里了，酒店电话打不通。>>这边联系上了酒店，酒店正在找。"
                        ">>酒店已经找到您的充电器，会帮您寄回去，运费酒店承担。>>找到了，在床头柜里，"
                        "我们帮您寄过去。"
                        "|退房手续办不了，前台说系统故障。>>查到酒店的系统在维护。"
                        ">>已经帮您在线上办了退房，押金会自动退回。>>系统好了，已经给您退房了。",
            "follow": "我报销等着用这张发票。|那个钱我根本不认。|东西对我很重要。",
            "qa": "请问发票抬头是个人还是公司？>>公司，{company}。|请问您是哪天退房的？>>{date}。"
                  "|落下的是什么物品？>>一个黑色的充电器。",
            "promise": "押金会在24小时内退回到您的账户。>>24小时内退押金>>h24",
        },
        "en": {
            "doubt": "I need an invoice for my stay.>>The hotel issues the invoice after check-out.>>The in"
                     "voice has been requested and will be sent to your email.>>We'll issue it within three"
                     " working days.",
            "defect": "It's been three days since check-out and I still don't have my deposit.>>The hotel m"
                      "issed your deposit refund.>>The hotel has refunded the deposit, it takes 1 to 3 work"
                      "ing days.>>We'll refund the deposit today, sorry."
                      "|I was charged for the minibar but I didn't use it.>>The hotel says the minibar char"
                      "ge was a mistake.>>The minibar charge has been refunded.>>We checked, it was a mista"
                      "ke.",
            "blockage": "I left my charger in the room and the hotel doesn't answer.>>I reached the hotel, "
                        "they are looking for it.>>The hotel found your charger and will post it to you for"
                        " free.>>Found it in the drawer, we'll post it to you.",
            "follow": "I need the invoice for my expense report.",
            "qa": "Should the invoice be for a company?>>Yes, my company."
                  "|What did you leave behind?>>A black charger.",
        },
    },
    "review": {
        "zh": {
            "doubt": "我写的点评怎么一直不显示？>>查到您的点评正在审核中。>>已经帮您加急审核，"
                     "点评已经显示了。"
                     "|点评奖励的积分什么时候到账？>>点评审核通过后二十四小时内发放积分。"
                     ">>积分已经帮您补发了。"
                     "|可以追评补充几张图吗？>>入住后三十天内都可以追评。>>已经帮您把追评的入口打开了。",
            "defect": "酒店说好评返现二十，到现在也没给。>>好评返现属于酒店自己的活动，不是平台的。"
                      ">>已经联系酒店，返现今天会给您。>>好的，返现今天就给客人发。"
                      "|给了差评以后酒店打电话骚扰我让我删。>>这边看到酒店确实多次联系了您。"
                      ">>已经对酒店提出警告，后面不会再打扰您了。>>我们只是想跟客人解释一下。"
                      "|酒店回复我的点评时把我的房号都写出来了。>>查到酒店的回复里有您的隐私信息。"
                      ">>已经对酒店提出警告，酒店的回复也已经删除了。>>不好意思，马上删掉。",
            "blockage": "点评一直提交不了。>>这边看到点评页面有故障，技术正在修复。>>已经修复了，"
                        "您再提交一下就可以了。"
                        "|想改点评找不到入口。>>点评发布后可以在“我的-点评”里修改一次。"
                        ">>已经帮您打开了修改入口。",
            "follow": "我说的都是真实情况。|这样骚扰客人合适吗？|那返现到底给不给？",
            "qa": "请问您的点评是什么时候提交的？>>退房当天。|酒店是怎么联系您的？>>打我手机。",
        },
        "en": {
            "doubt": "Why isn't my review showing?>>Your review is being moderated.>>I've sped up the moder"
                     "ation, your review is published now.",
            "defect": "The hotel keeps calling me to delete my review.>>I can see the hotel contacted you s"
                      "everal times.>>We've warned the hotel, they won't contact you again.>>We only wanted"
                      " to explain.",
            "blockage": "I can't submit my review.>>There is a bug on the review page.>>It has been fixed, "
                        "please try again.",
            "follow": "Everything I wrote is true.",
            "qa": "When did you submit the review?>>On the day I checked out.",
        },
    },
}


# ----------------------------------------------------------------------------------------------------------
# Service-journey phrase banks, same compact form, per language.
# ------------------------------------------------------------------------------------------------------------
_GENERIC = {
    "zh": {
        "ivr_welcome": "您好，欢迎致电悦享生活客服中心，本次通话可能会被录音。"
                       "|您好，欢迎致电客服热线，为了保证服务质量，您的通话将被录音。",
        "ivr_menu": "外卖订单问题请按1，酒店住宿问题请按2，其他问题请按0。"
                    "|查询订单请按1，投诉建议请按2，转人工服务请按0。",
        "ivr_human": "人工。|转人工服务。|人工客服。",
        "ivr_queue": "正在为您转接人工服务，您前面还有{queue}位客户在排队，请稍候。|正在为您转接，请稍候。",
        "ivr_survey": "请对本次服务进行评价，满意请按1，一般请按2，不满意请按3。",
        "call_greet": "您好，工号{agentno}为您服务，请问有什么可以帮您？"
                      "|您好，很高兴为您服务，我是{agent}，请问有什么可以帮您？",
        "bot_greet": "您好，我是智能客服小悦，请问有什么可以帮您？"
                     "|您好，欢迎咨询，请简单描述您遇到的问题。",
        "bot_faq": "猜您想问：{faq}相关问题。您可以在“订单详情”页面自助处理，如未解决请回复“转人工”。"
                   "|为您找到以下答案：{faq}问题可以在“我的-客服中心”自助处理。这个答案对您有帮助吗？",
        "ask_human": "转人工。|人工客服。|我要找人工。",
        "ask_human_angry": "别答非所问了，转人工！|听不懂我说话吗？我要人工！"
                           "|机器人根本解决不了问题，转人工。",
        "handoff": "正在为您转接人工客服，当前排队{queue}人，请耐心等待。|已为您转接人工客服，请稍候。",
        "connected": "已为您接入人工客服。|在线客服{agent}已接入会话。",
        "agent_greet": "您好，我是客服{agent}，很高兴为您服务，请问有什么可以帮您？"
                       "|您好，{agent}为您服务，请问遇到什么问题了？"
                       "|您好，感谢您的耐心等待，我是{agent}，请问有什么可以帮到您？",
        "restate": "我刚才已经跟机器人说过了，|刚才说了半天，",
        "ticket_open": "工单{ticket}已创建，我们会尽快处理。|您的反馈已受理，工单号{ticket}。",
        "ticket_greet": "您好，您反馈的问题我们已经收到，我是负责处理的客服{agent}。"
                        "|您好，我是客服{agent}，关于您提交的问题，这边来跟进一下。",
        "ticket_detail": "订单号{order}。|订单号是{order}，麻烦尽快处理。",
        "ticket_escalate": "工单已升级至二线处理。",
        "ticket_close": "工单已处理完成并关闭。|工单已关闭。",
        "ask_order": "麻烦您提供一下订单号。|请问是哪个订单呢？麻烦发一下订单号。"
                     "|请您提供一下订单号，我帮您查询。",
        "give_order": "订单号是{order}。|{order}|好的，{order}。|是这个，{order}。",
        "verify": "跟您核实一下，是尾号{tail}的手机号下的单对吧？>>对的。"
                  "|请问是尾号{tail}的这个手机号吗？>>是的，是我。",
        "hold": "好的，请您稍等，我帮您查询一下。|请稍等，正在为您查询。"
                "|好的，我这边看一下，请您稍等一两分钟。",
        "ack": "好的。|嗯。|行。|好，我等着。|知道了。",
        "empathy": "非常理解您的心情，给您带来不便真的很抱歉。|抱歉让您久等了，我这边一定尽力帮您处理。"
                   "|您先别着急，我马上帮您处理。",
        "third_intro": "我这边帮您联系一下{party}，请您稍等。|我现在就帮您打电话给{party}问一下。",
        "third_relay": "{party}那边已经回复了，跟您说一下情况。|刚才联系上{party}了，我跟您同步一下。",
        "transfer": "这个问题需要专门的同事处理，我帮您转接过去，请稍等。"
                    "|您这个情况需要相关部门处理，我给您转过去。",
        "escalate": "这个问题我需要升级给二线专员处理，请您稍等。|我帮您申请升级到高级客服，由专员跟进。",
        "sys_transfer": "会话已转接至{agent2}。|正在为您转接，请稍候。",
        "greet2": "您好，我是二线专员{agent2}，您的情况同事已经跟我说了。"
                  "|您好，我是高级客服{agent2}，接下来由我为您处理。"
                  "|您好，我是{agent2}，刚才的情况我已经了解了。",
        "greet_transfer": "您好，我是客服{agent2}，刚才同事已经把您的情况转给我了。"
                          "|您好，我是{agent2}，接下来由我为您服务。",
        "transfer_react": "怎么又要转？我已经说了好几遍了。|转来转去的，到底谁能管？|又要我从头说一遍吗？",
        "unresolved": "这边已经给您提交了加急处理，请您耐心等待处理结果。"
                      "|这个需要进一步核实，目前还没有结果，一有进展会通知您。"
                      "|非常抱歉，按照规定目前只能这样处理。",
        "promise": "我们会在24小时内给您回电，告诉您处理结果。>>24小时内给我回电话>>h24"
                   "|明天中午十二点之前给您答复。>>明天中午之前给我答复>>noon_next"
                   "|今天晚上十点之前一定给您处理好。>>今天晚上十点之前处理好>>tonight"
                   "|两个小时内给您回电话。>>两个小时内给我回电话>>h2",
        "apology": "非常抱歉给您带来了不好的体验，您的意见我们会反馈给相关部门。"
                   "|真的很抱歉，我们会继续跟进。",
        "close_ask": "请问还有其他可以帮您的吗？|还有别的问题需要我处理吗？",
        "close_no": "没有了。|没别的了。|暂时没有了。",
        "close_thanks": "没有了，谢谢。|没了，谢谢你啊。",
        "farewell": "感谢您的耐心，祝您生活愉快！稍后会有满意度邀请，麻烦您帮忙打个分。"
                    "|好的，那就不打扰您了，祝您生活愉快，再见。",
        "call_farewell": "感谢您的来电，祝您生活愉快，再见。|好的，感谢来电，再见。",
        "survey": "请您对本次服务打分：1非常不满意 - 5非常满意。|【满意度调查】请问您对本次服务满意吗？",
        "rating": "1，非常不满意。|2，不满意。|3，一般吧。|4，满意。|5，非常满意。",
        "sys_end": "会话已结束。|客户已离开会话。",
        "note": "好的，我这边记录一下。|明白，我备注一下。",
        "qa": "请问这个订单是您本人下的吗？>>是我下的。|请问您现在方便接听电话吗？>>方便。"
              "|请问是在APP上操作的吗？>>对，APP上。|方便说一下您的手机尾号吗？>>{tail}。",
        "effort": "我{ago}已经联系过你们了，到现在还没解决。|这是我第{nth}次联系你们了。"
                  "|同一个问题我已经说了好几遍了。"
                  "|上次的客服说会处理，结果一点消息都没有。",
        "broken": "上次说好{promise}，到现在也没人联系我。|你们的客服答应我{promise}，结果呢？",
        "threat": "再不解决我就投诉了。|我要打12315投诉你们。|我一定给差评。|我要发微博曝光你们。"
                  "|我要投诉到消协。",
        "ask_phone": "方便留一个联系电话吗？处理好了给您回电。|请问联系电话是多少？",
        "give_phone": "我的手机是{phone}。|{phone}，打这个就行。|打我电话{phone}吧。",
        "ask_email": "麻烦留一个邮箱，处理结果和凭证发到您邮箱。|请问处理结果发到哪个邮箱呢？",
        "give_email": "发到{email}吧。|我的邮箱是{email}。",
        "ask_id": "麻烦提供一下入住人的证件信息，我跟酒店核对。|请问入住人的身份证号是多少？",
        "give_id": "我的身份证号是{idno}，前台可以查。|身份证号{idno}。",
        "ask_card": "请问退到哪张卡呢？|原支付卡已经注销了的话，请提供一下收款的银行卡号。",
        "give_card": "退到这张卡吧，{card}。|卡号是{card}。",
        "ticket_phone": "有问题打我电话{phone}。|联系电话{phone}。",
        "anger": "你们到底怎么搞的！|太过分了！|这什么破服务！|气死我了！|简直岂有此理！"
                 "|你们就是这么做生意的？",
        "frustration": "怎么老是这样！|等了这么久还是没结果，真是烦死了。|每次都让我等，能不能给个准话？"
                       "|真的很无奈。|来来回回的，太折腾了。",
        "anxiety": "我急着用呢，能不能快点？|我真的很着急。|这可怎么办啊，我有点担心。"
                   "|万一耽误了怎么办？|麻烦尽快，我这边等不了太久。",
        "disappointment": "真的太失望了。|本来挺相信你们的。|以后不敢再用了。|唉，没想到会这样。"
                          "|体验太差了。",
        "confusion": "我不太明白，这是什么意思？|怎么会这样呢？|我搞不懂为什么。|这个规则我看不懂。",
        "satisfaction": "好的，这样处理我可以接受。|行，这样挺好的。|嗯，可以，处理得挺快的。"
                        "|好的，这个方案我满意。",
        "gratitude": "谢谢你啊，辛苦了。|太感谢了！|好的，麻烦你了，谢谢。|谢谢，你们服务挺好的。",
    },
    "en": {
        "ivr_welcome": "Welcome to the customer service hotline, this call may be recorded.",
        "ivr_menu": "For food orders press 1, for hotel bookings press 2, for anything else press 0.",
        "ivr_human": "Agent.|Speak to an agent.",
        "ivr_queue": "Transferring you to an agent, there are {queue} callers ahead of you."
                     "|Please hold while "
                     "we transfer your call.",
        "ivr_survey": "Please rate this call: press 1 if satisfied, 2 if neutral, 3 if not satisfied.",
        "call_greet": "Hello, this is agent {agentno}, how can I help you?"
                      "|Hello, my name is {agent}, how can I "
                      "help you today?",
        "bot_greet": "Hi, I'm the virtual assistant. How can I help you?|Hello, please describe your issue "
                     "briefly.",
        "bot_faq": "You may be asking about {faq}. You can handle it on the order details page, or reply "
                   "\"agent\" to talk to a person.",
        "ask_human": "Agent.|Talk to a human.|I want a real person.",
        "ask_human_angry": "That's not what I asked, get me a human!|The bot is useless, agent please.",
        "handoff": "Connecting you to an agent, {queue} people are waiting ahead of you."
                   "|Transferring you to "
                   "an agent.",
        "connected": "An agent has joined the chat.|Agent {agent} has joined.",
        "agent_greet": "Hi, this is {agent}, how can I help you?|Hello, thanks for waiting, I'm {agent}. "
                       "What can I do for you?",
        "restate": "I already told the bot.",
        "ticket_open": "Ticket {ticket} has been created.|We have received your request, ticket {ticket}.",
        "ticket_greet": "Hello, we have received your request, I'm {agent} and I'll handle it.",
        "ticket_detail": "Order number {order}.",
        "ticket_escalate": "The ticket has been escalated to the second line.",
        "ticket_close": "The ticket has been closed.",
        "ask_order": "Could you give me your order number?|May I have the order number, please?",
        "give_order": "It's {order}.|{order}|Order number {order}.",
        "verify": "Is it the phone number ending in {tail}?>>Yes, that's me.",
        "hold": "Please hold on, let me check.|One moment please, I'm looking into it.",
        "ack": "OK.|Alright.|OK, I'll wait.|Got it.",
        "empathy": "I completely understand, and I'm sorry for the trouble.|Sorry for the wait, I'll do my "
                   "best to sort this out.",
        "third_intro": "Let me contact {party} for you, one moment.|I'm calling {party} right now.",
        "third_relay": "I've heard back from {party}.|I just spoke with {party}.",
        "transfer": "This needs a colleague from another team, I'll transfer you."
                    "|I'll pass you to the team "
                    "that handles this.",
        "escalate": "I need to escalate this to a second-line specialist."
                    "|I'll escalate this to a supervisor.",
        "sys_transfer": "The chat has been transferred to {agent2}.|Transferring, please wait.",
        "greet2": "Hello, I'm {agent2}, a specialist. My colleague has briefed me."
                  "|Hi, this is {agent2}, I'll "
                  "take it from here.",
        "greet_transfer": "Hi, I'm {agent2}, my colleague passed your case to me.",
        "transfer_react": "Another transfer? I've explained this several times.|Why do you keep passing me "
                          "around?",
        "unresolved": "I've submitted it as urgent, please wait for the result.|It needs further checking, "
                      "we'll let you know once there's progress.",
        "promise": "We will call you back within 24 hours.>>to call me back within 24 hours>>h24"
                   "|You will have an answer before noon tomorrow.>>an answer before noon>>noon_next"
                   "|I'll call you back within two hours.>>to call me back within two hours>>h2",
        "apology": "I'm very sorry for the experience, we'll pass your feedback on."
                   "|I'm sorry, we will keep "
                   "following up.",
        "close_ask": "Is there anything else I can help you with?",
        "close_no": "No, that's all.|Nothing else.",
        "close_thanks": "No, thank you.|That's all, thanks.",
        "farewell": "Thank you for your patience, have a nice day! You'll get a short survey after this cha"
                    "t.",
        "call_farewell": "Thank you for calling, goodbye.",
        "survey": "Please rate this service from 1 (very dissatisfied) to 5 (very satisfied).",
        "rating": "1, very dissatisfied.|2, dissatisfied.|3, OK.|4, satisfied.|5, very satisfied.",
        "sys_end": "The chat has ended.|The customer left the chat.",
        "note": "OK, I've noted that.",
        "qa": "Did you place the order yourself?>>Yes, I did.|Is this a good number to reach you?>>Yes.",
        "effort": "I already contacted you {ago}, and it's still not solved.|This is the {nth} time I'm "
                  "contacting you.|I've already explained this several times.",
        "broken": "Last time you promised {promise}, and nobody contacted me.",
        "threat": "I'm going to file a complaint.|I'll leave a one-star review.|I'll report this to the "
                  "consumer association.|I'll post about this online.",
        "ask_phone": "Could you leave a phone number so we can call you back?",
        "give_phone": "My number is {phone}.|You can call me on {phone}.",
        "ask_email": "Could you leave an email address for the confirmation?",
        "give_email": "Please send it to {email}.",
        "ask_id": "Could you give me the guest's ID number so I can check with the hotel?",
        "give_id": "My ID number is {idno}.",
        "ask_card": "Which card should the refund go to?",
        "give_card": "Please refund to this card: {card}.",
        "ticket_phone": "You can call me on {phone}.",
        "anger": "This is ridiculous!|What kind of service is this?|I'm really angry.|Unacceptable!",
        "frustration": "Why does this always happen?|I've been waiting forever.|This is so frustrating.",
        "anxiety": "I really need this sorted soon, please hurry.|I'm really worried about this."
                   "|I'm in a hurry.",
        "disappointment": "I'm really disappointed.|I expected better from you."
                          "|I don't think I'll use this "
                          "again.",
        "confusion": "I don't understand what this means.|How can that be?|I'm confused.",
        "satisfaction": "OK, that works for me.|Great, that's fine.|Good, that was quick.",
        "gratitude": "Thank you so much!|Thanks, I appreciate your help.|Thanks a lot, have a nice day.",
    },
}

_POOLS = {
    "zh": {
        "item": "黄焖鸡米饭|麻辣香锅|酸菜鱼|牛肉面|奶茶|炸鸡套餐|螺蛳粉|宫保鸡丁盖饭|麻辣烫|披萨|煲仔饭"
                "|水饺",
        "shop": "老王黄焖鸡|蜀香麻辣烫|张记牛肉面|川味小馆|阿姨奶茶铺|好运来快餐|湘里人家|老街炸鸡"
                "|粤味煲仔饭",
        "hotel": "悦居精品酒店|城市之光酒店|云栖度假酒店|海湾假日酒店|途居商务酒店|花间民宿",
        "room": "大床房|双床房|豪华大床房|行政套房|家庭房",
        "company": "星河科技有限公司|远航商贸有限公司|启明教育咨询有限公司",
        "agent": "小李|小王|小张|小美|小雨|晓晴|小杨|小周|小陈|小林",
        "agent2": "王专员|刘主管|陈专员|赵敏|周经理",
    },
    "en": {
        "item": "chicken rice|spicy hot pot|beef noodles|milk tea|fried chicken combo|pizza|dumplings",
        "shop": "Lao Wang Chicken|Sichuan Kitchen|Happy Noodle House|Old Street Fried Chicken",
        "hotel": "Yueju Boutique Hotel|City Light Hotel|Bayview Holiday Hotel|Tuju Business Hotel",
        "room": "king room|twin room|deluxe king room|executive suite|family room",
        "company": "Starriver Tech|Yuanhang Trading",
        "agent": "Lily|Kevin|Amy|Jason|Cindy|Tom",
        "agent2": "Helen, senior specialist|Mark, supervisor|Grace, specialist",
    },
}
_STAGE_NAMES = {  # the bot's FAQ topic per stage
    "zh": {"order": "修改订单", "payment": "支付问题", "merchant_accept": "商家接单", "cooking": "催出餐",
           "pickup": "骑手取餐", "delivery": "配送进度", "receiving": "未收到餐品", "eating": "餐品质量",
           "review": "评价管理", "refund": "退款进度", "coupon": "红包使用", "booking": "修改预订",
           "confirmation": "订单确认", "waiting": "取消与改期", "check_in": "入住问题",
           "checkout": "押金与发票"},
    "en": {"order": "changing an order", "payment": "payments", "merchant_accept": "order acceptance",
           "cooking": "cooking time", "pickup": "rider pick-up", "delivery": "delivery status",
           "receiving": "missing items", "eating": "food quality", "review": "reviews", "refund": "refunds",
           "coupon": "coupons", "booking": "changing a booking", "confirmation": "booking confirmation",
           "waiting": "cancellations", "check_in": "check-in", "checkout": "deposits and invoices"},
}

# Emotion sampling: weights per issue type at the start; pain scales the negative ones.
_START_EMOTION = {
    "doubt": {"confusion": 3, "anxiety": 2.5, "neutral": 5, "frustration": 1, "anger": 0.3},
    "defect": {"anger": 1.5, "disappointment": 2.5, "frustration": 2, "neutral": 2, "confusion": 0.4},
    "blockage": {"frustration": 3, "anxiety": 2.5, "anger": 1, "confusion": 1, "neutral": 1.5},
}
_HOT = frozenset({"anger", "frustration", "disappointment"})

# Customers: persona weights per business line, channel (chat, call, ticket) and device weights per persona.
_PERSONAS = {
    "food_delivery": {"上班族": 35, "学生": 25, "家庭主妇": 20, "商旅人士": 5, "老年用户": 15},
    "hotel": {"上班族": 25, "学生": 10, "家庭主妇": 15, "商旅人士": 40, "老年用户": 10},
    "en": {"外籍人士": 75, "商旅人士": 25},
}
_CHANNELS = {"老年用户": (30, 60, 10), "学生": (80, 10, 10), "商旅人士": (50, 35, 15)}
_DEFAULT_CHANNELS = (62, 26, 12)
_DEVICES = {
    "老年用户": {"Android": 5, "HarmonyOS": 4, "iOS": 1},
    "学生": {"iOS": 5, "Android": 3, "微信小程序": 2},
    "": {"iOS": 4, "Android": 4, "HarmonyOS": 2, "微信小程序": 1.5, "PC网页": 0.5},
}
_CITIES = {
    "hans": "北京|上海|广州|深圳|杭州|成都|武汉|南京|西安|重庆|苏州|长沙",
    "hant": "香港|澳門|台北",
    "en": "上海|北京|深圳|广州|杭州",
}
_SCRIPT_WEIGHTS = {"hans": 87, "en": 10, "hant": 3}
_HOUR_WEIGHTS = {
    "food_delivery": (2, 1, .5, .3, .2, .2, .5, 1.5, 3, 3, 5, 12, 14, 8, 4, 3, 4, 8, 12, 10, 7, 5, 4, 3),
    "hotel": (1.5, 1, .5, .3, .2, .3, .8, 2, 4, 6, 7, 7, 6, 6, 6, 6, 6, 6, 6, 7, 8, 8, 6, 3),
}
_WEEKDAY = (1.0, 0.95, 0.95, 1.0, 1.1, 1.25, 1.2)
_MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177", "186",
                    "187", "188", "189", "199")
_ID_REGIONS = ("110101", "310104", "440305", "330106", "510107", "420111", "320102", "610113")
_CARD_PREFIXES = ("622202", "622848", "621700", "436742", "622588", "621483")
_MAIL = ("zhangwei", "li_na", "wangfang", "chenjie", "liuyang", "huangli", "zhaolei", "sunmei")
_MAIL_DOMAINS = ("163.com", "126.com", "qq.com", "gmail.com", "outlook.com", "sina.com")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NTH = {"zh": ("一", "二", "三", "四"), "en": ("first", "second", "third", "fourth")}

# Simplified -> traditional characters for the ~3 % traditional-script transcripts: a character map built
# with OpenCC s2tw over every phrase of this file, plus word fixes for ambiguous characters (regenerate when
# phrases change; characters missing from the map stay simplified).
_SIMP = (
    "万与专业东两个临为么乱于云从们价优会传体余偿儿关兴内写冲决况冻准凉减几凭凶刘则刚创删别办务动励区"
    "医华协单卖占卫却厨双发变叠号后吗听启员咨团围图坏块处备复够头奖宝实审宫对导将尽层属岂布师带帮并库"
    "应开异张强当录态总悦户扫扰护报担拟换据无旧时显晓暂术机权条来杨柜栋栖样楼槛欢气汤沟没注洁洒湾满点"
    "烟烦烫热焖状现电盖着码确离种积笔简类粤紧红约级线细经结绕给络绝统继续维缩网罚联胀脏腾范萨虚虫蛳补"
    "装见规计订认让议记设证评诉诊试话询该详语误诱说请谁调谢负责败账货质购贴贸费赔赵赶车转较输边达过运"
    "还这进远违连迟适选邮释里钟钮钱银铺销锅错门闪闭问闲间队际陈隐静页项顺顾顿预领题额饭饮饺饿馆馈馊马"
    "驳骂验骑骚鱼鲜鸡黄"
)
_TRAD = (
    "萬與專業東兩個臨為麼亂於雲從們價優會傳體餘償兒關興內寫衝決況凍準涼減幾憑兇劉則剛創刪別辦務動勵區"
    "醫華協單賣佔衛卻廚雙發變疊號後嗎聽啟員諮團圍圖壞塊處備復夠頭獎寶實審宮對導將盡層屬豈佈師帶幫並庫"
    "應開異張強當錄態總悅戶掃擾護報擔擬換據無舊時顯曉暫術機權條來楊櫃棟棲樣樓檻歡氣湯溝沒註潔灑灣滿點"
    "煙煩燙熱燜狀現電蓋著碼確離種積筆簡類粵緊紅約級線細經結繞給絡絕統繼續維縮網罰聯脹髒騰範薩虛蟲螄補"
    "裝見規計訂認讓議記設證評訴診試話詢該詳語誤誘說請誰調謝負責敗賬貨質購貼貿費賠趙趕車轉較輸邊達過運"
    "還這進遠違連遲適選郵釋裡鐘鈕錢銀鋪銷鍋錯門閃閉問閒間隊際陳隱靜頁項順顧頓預領題額飯飲餃餓館饋餿馬"
    "駁罵驗騎騷魚鮮雞黃"
)
_TRAD_FIXES = {  # words the character map gets wrong, keyed by its output
    "聯系": "聯繫", "頭發": "頭髮", "回復": "回覆", "答復": "答覆", "重復": "重複", "盡快": "儘快",
    "周末": "週末", "上周": "上週", "下周": "下週", "每周": "每週", "這周": "這週", "公裡": "公里",
    "牛肉面": "牛肉麵", "湘裡": "湘里",
}
_TO_TRAD = str.maketrans(_SIMP, _TRAD)
_TRAD_FIX = re.compile("|".join(sorted(_TRAD_FIXES, key=len, reverse=True)))


def _to_traditional(text: str) -> str:
    """Simplified -> traditional (Taiwan standard) characters, good enough for the phrases of this file."""
    return _TRAD_FIX.sub(lambda m: _TRAD_FIXES[m.group()], text.translate(_TO_TRAD))


def _split(raw: dict) -> dict:
    """Expand the compact phrase strings into tuples ("a|b" -> ("a", "b"); ">>" splits into fields)."""
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            out[key] = _split(value)
        else:
            items = tuple(s for s in value.split("|") if s)
            out[key] = tuple(tuple(i.split(">>")) for i in items) if ">>" in value else items
    return out


TEXT = {"food_delivery": _split(_FOOD), "hotel": _split(_HOTEL)}
PHRASES = _split(_GENERIC)
POOLS = _split(_POOLS)
CITIES = _split(_CITIES)


# ----------------------------------------------------------------------------------------------------------
# The e-commerce journey of the 618 projector: a replacement remote promised "tomorrow", chased for six days.
# Rows: (speaker[:label], emotion, text); one stage and issue per contact; days count from the journey's
# start; promise: (turn, quote, deadline (day, hour, minute), fallback deadline or None).
# ------------------------------------------------------------------------------------------------------------
_REMOTE_STORY = [
    {
        "day": 0, "time": (15, 20), "channel": "call", "stage": "installation", "issue": "defect",
        "resolved": False, "promise": (9, "明天给您送过去", (1, 23, 59), (2, 23, 59)),
        "rows": [
            ("ivr", None, "您好，欢迎致电悦购商城售后服务热线，本次通话可能会被录音。"),
            ("ivr", None, "安装维修请按1，退换货请按2，其他问题请按0。"),
            ("ivr", None, "正在为您转接人工服务，请稍候。"),
            ("agent", None, "您好，工号{agentno}为您服务，请问有什么可以帮您？"),
            ("customer", "neutral", "你好，我618买的那台智能投影仪，今天师傅上门安装，"
             "调试的时候发现遥控器不好使。"),
            ("agent", None, "麻烦您提供一下订单号。"),
            ("customer", "neutral", "订单号是{order}。"),
            ("agent", None, "好的，请稍等。我这边看到安装是今天下午完成的，师傅现在还在您家吗？"),
            ("customer", "neutral", "还在，我让他跟你说。"),
            ("third_party:安装师傅", None, "你好，我是安装师傅。遥控器是坏的，按键没反应，我给客户换个新的，"
             "明天给您送过去。要是仓库没货得调货，那就后天到了给您送来。"),
            ("agent", None, "好的师傅，那就麻烦您了。先生，您看这样可以吗？"),
            ("customer", "anxiety", "行吧，那我就等明天。别忘了啊，没遥控器这投影仪没法用。"),
            ("agent", None, "好的，遥控器由安装师傅给您更换。请问还有其他问题吗？"),
            ("customer", "neutral", "没有了。"),
            ("agent", None, "感谢您的来电，再见。"),
        ],
    },
    {
        "day": 3, "time": (10, 5), "channel": "chat", "stage": "after_sale", "issue": "doubt",
        "resolved": False, "promise": (6, "明天一定给送过去", (4, 23, 59), None), "effort": (8,),
        "rows": [
            ("system", None, "已为您接入人工客服。"),
            ("agent", None, "您好，我是客服{agent}，很高兴为您服务，请问有什么可以帮您？"),
            ("customer", "frustration", "三天前师傅上门装投影仪，说遥控器坏了，第二天给我送新的，"
             "要调货也就第三天。今天都第四天了，没人给我打电话，也没人上门。怎么老是这样！"),
            ("agent", None, "非常抱歉，麻烦提供一下订单号。"),
            ("customer", "neutral", "{order}"),
            ("agent", None, "请稍等，我这边联系一下安装师傅。"),
            ("third_party:安装师傅", None, "不好意思，这几天活太多，给忘了。麻烦把地址再发我一下，"
             "明天一定给送过去。"),
            ("agent", None, "师傅说这几天比较忙耽误了，需要您再提供一下上门地址，明天给您送过去。"),
            ("customer", "frustration", "地址装机的时候不是给过了吗？又要我再说一遍。{address}。"),
            ("agent", None, "好的，已经转告师傅了，给您带来不便非常抱歉。"),
            ("customer", "anxiety", "这次明天总能送到吧？我已经等了好几天了，真的很着急。"),
            ("agent", None, "师傅已经答应明天送到，请您留意电话。请问还有其他问题吗？"),
            ("customer", "neutral", "没了。"),
            ("agent", None, "感谢您的耐心，祝您生活愉快！"),
        ],
    },
    {
        "day": 4, "time": (20, 40), "channel": "call", "stage": "after_sale", "issue": "blockage",
        "resolved": False, "promise": (12, "明天给您送货上门", (5, 18, 0), None), "effort": (4, 6, 10),
        "threat": (10,),
        "rows": [
            ("ivr", None, "您好，欢迎致电悦购商城售后服务热线，本次通话可能会被录音。"),
            ("ivr", None, "安装维修请按1，退换货请按2，其他问题请按0。"),
            ("ivr", None, "正在为您转接人工服务，请稍候。"),
            ("agent", None, "您好，工号{agentno}为您服务，请问有什么可以帮您？"),
            ("customer", "anger", "你好，我又来了，还是遥控器的事。昨天师傅说今天一定送，我在家等了一天，"
             "到现在都没人来，打他电话也不接。你们到底怎么搞的！"),
            ("agent", None, "非常抱歉，请问订单号是多少？"),
            ("customer", "frustration", "{order}，这都第五天了。"),
            ("agent", None, "请您稍等，我再联系一下师傅。"),
            ("third_party:安装师傅", None, "这个遥控器现在归服务站管了，"
             "你让客户直接打服务站的座机{landline}，他们负责调货。"),
            ("agent", None, "先生，师傅说遥控器由售后服务站负责，服务站的电话是{landline}。"),
            ("customer", "anger", "怎么又让我自己去找？我是在你们平台买的，凭什么让我一个一个去打电话？"
             "再这样我就投诉了。"),
            ("agent", None, "非常理解您的心情，我这边直接帮您转接服务站，请不要挂机。"),
            ("third_party:服务站", None, "您好，这里是售后服务站。您的情况我们知道了，遥控器我们尽快调货，"
             "明天给您送货上门。"),
            ("customer", "frustration", "明天一定要送到，别再让我等了。"),
            ("third_party:服务站", None, "好的，明天下午之前给您送到。"),
            ("agent", None, "先生，服务站已经答应明天给您送到，我这边也会跟进。请问还有其他问题吗？"),
            ("customer", "neutral", "没有了。"),
            ("agent", None, "感谢您的来电，再见。"),
        ],
    },
    {
        "day": 5, "time": (16, 30), "channel": "chat", "stage": "after_sale", "issue": "defect",
        "resolved": True, "csat": 2, "effort": (2,),
        "rows": [
            ("system", None, "已为您接入人工客服。"),
            ("agent", None, "您好，我是客服{agent}，很高兴为您服务，请问有什么可以帮您？"),
            ("customer", "disappointment", "遥控器今天下午总算送到了。前前后后折腾了六天，"
             "找了师傅又找服务站，真的太失望了。"),
            ("agent", None, "非常抱歉让您经历了这么多周折，您的遭遇我们会反馈给安装服务商。"),
            ("agent", None, "为表歉意，给您的账户发放了一张20元的优惠券。"),
            ("customer", "disappointment", "优惠券就算了，希望你们管管第三方的师傅，答应的事情要做到。"),
            ("agent", None, "您的建议我们记下了，会对服务商进行考核。请问遥控器现在使用正常吗？"),
            ("customer", "neutral", "正常了。"),
            ("agent", None, "好的，请问还有其他可以帮您的吗？"),
            ("customer", "neutral", "没有了。"),
            ("agent", None, "感谢您的反馈，稍后会有满意度邀请，麻烦您帮忙打个分。"),
            ("system", None, "请您对本次服务打分：1非常不满意 - 5非常满意。"),
            ("customer", "disappointment", "2，不满意。"),
        ],
    },
]


# ----------------------------------------------------------------------------------------------------------
# Value makers
# ------------------------------------------------------------------------------------------------------------
def _luhn_digit(body: str) -> str:
    """The check digit that makes ``body + digit`` pass the Luhn test."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _mobile(rng: Random) -> str:
    digits = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    style = rng.random()
    if style < 0.55:
        return digits
    if style < 0.8:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style < 0.93:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return f"+86 {digits}"


def _id_number(rng: Random) -> str:
    """An 18-digit resident ID with a plausible birth date and a valid checksum."""
    body = (rng.choice(_ID_REGIONS) + f"{rng.randrange(1955, 2006)}{rng.randrange(1, 13):02d}"
            f"{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}")
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _bank_card(rng: Random) -> str:
    length = rng.choice((16, 16, 19))
    body = rng.choice(_CARD_PREFIXES)
    body += "".join(str(rng.randrange(10)) for _ in range(length - 1 - len(body)))
    number = body + _luhn_digit(body)
    return " ".join(number[i:i + 4] for i in range(0, length, 4)) if rng.random() < 0.5 else number


def _email(rng: Random) -> str:
    domain = rng.choice(_MAIL_DOMAINS)
    if domain == "qq.com":
        return f"{rng.randrange(10**7, 10**10)}@qq.com"
    suffix = rng.choice(("", str(rng.randrange(10, 99)), str(rng.randrange(1980, 2005))))
    return f"{rng.choice(_MAIL)}{suffix}@{domain}"


def _order_id(rng: Random, line: str) -> str:
    """Order numbers never have a PII shape: 16 digits failing Luhn for food, 12 digits elsewhere."""
    if line == "food_delivery":
        body = "3" + f"{rng.randrange(10**14):014d}"
        bad = (int(_luhn_digit(body)) + 1 + rng.randrange(9)) % 10
        return body + str(bad)
    return ("8" if line == "hotel" else "6") + f"{rng.randrange(10**11):011d}"


_PII_MAKERS = {"phone": _mobile, "email": _email, "id": _id_number, "card": _bank_card}
_PII_SLOT = {"phone": "phone", "email": "email", "id": "idno", "card": "card"}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _turn_time(timing: dict, started: datetime) -> datetime:
    """When a turn happened, from its ``ts`` or its ``start_ms`` offset."""
    if "ts" in timing:
        return datetime.fromisoformat(timing["ts"])
    return started + timedelta(milliseconds=timing["start_ms"])


def _deadline(made: datetime, rule: str) -> datetime:
    """When a promise falls due, from the moment it was made and its rule."""
    day_start = made.replace(hour=0, minute=0, second=0, microsecond=0)
    if rule == "h1":
        return made + timedelta(hours=1)
    if rule == "h2" or (rule == "tonight" and made.hour >= 20):
        return made + timedelta(hours=2)
    if rule == "h24":
        return made + timedelta(hours=24)
    if rule == "tonight":
        return day_start + timedelta(hours=22)
    if rule == "noon_next":
        return day_start + timedelta(days=1, hours=12)
    return day_start + timedelta(days=1, hours=23, minutes=59)  # next_day


class _Cum:
    """Weighted choice over fixed options, with cumulative weights computed once."""

    __slots__ = ("options", "cum")

    def __init__(self, weights: dict) -> None:
        self.options = tuple(weights)
        total, cum = 0.0, []
        for w in weights.values():
            total += w
            cum.append(total)
        self.cum = cum

    def __call__(self, rng: Random):
        return rng.choices(self.options, cum_weights=self.cum)[0]


# ----------------------------------------------------------------------------------------------------------
# One contact: rows appended in order, then timed and exported.
# ------------------------------------------------------------------------------------------------------------
class _Contact:
    """Turns of one contact under construction: ``rows`` of [speaker, text, segment, emotion, step, label,
    pause_s, drop_priority, group, marks]."""

    _FIXED_STEP = {"bot": "self_service", "ivr": "ivr_routing", "third_party": "third_party"}

    def __init__(self, rng: Random, lang: str, fill: dict, channel: str) -> None:
        self.rng = rng
        self.lang = lang
        self.phrases = PHRASES[lang]
        self.fill = fill
        self.channel = channel
        self.agent_step = {"chat": "online_agent", "call": "phone_agent", "ticket": "ticket"}[channel]
        self.step = "ivr_routing" if channel == "call" else self.agent_step
        self.agent_label = fill["agent_label"]
        self.rows: list[list] = []
        self.group = 0
        self.said: set[str] = set()

    def pick(self, key: str) -> str:
        """A phrase of bank ``key``, avoiding one already said in this contact when the bank allows."""
        return self.choose(self.phrases[key])

    def choose(self, options: tuple[str, ...]) -> str:
        fresh = [o for o in options if o not in self.said]
        text = self.rng.choice(fresh or options)
        self.said.add(text)
        return text

    def add(self, speaker: str, text: str, seg: int, emotion: str | None = None, *, label: str | None = None,
            pause: float = 0.0, drop: int = 0, step: str | None = None, marks: tuple = ()) -> None:
        """Append one turn; ``drop`` > 0 marks it removable (higher first) when the contact runs too long."""
        if step is None:
            if speaker == "agent":
                step = self.agent_step
            else:
                step = self._FIXED_STEP.get(speaker, self.step)
        self.step = step
        if speaker == "agent" and label is None:
            label = self.agent_label
        if "{" in text:
            text = text.format_map(self.fill)
        self.rows.append([speaker, text, seg, emotion, step, label, pause, drop, self.group, marks])
        if not drop:
            self.group += 1

    def say(self, speaker: str, key: str, seg: int, **kw) -> None:
        self.add(speaker, self.pick(key), seg, **kw)

    def pair(self, qa: tuple[str, str], seg: int, drop: int = 0) -> None:
        """An agent question and the customer's neutral answer, removable together."""
        self.group += 1
        self.add("agent", qa[0], seg, drop=drop)
        self.add("customer", qa[1], seg, "neutral", drop=drop)
        self.group += 1

    def customer(self, content: str, seg: int, emotion: str, *, lead: str = "", threat: bool = False,
                 marks: tuple = (), drop: int = 0) -> None:
        """A customer turn: optional effort lead, the content, a clause carrying ``emotion``, a threat."""
        rng = self.rng
        sep = " " if self.lang == "en" else ""
        parts = [lead] if lead else []
        if emotion in self.phrases and emotion != "neutral":
            clause = self.pick(emotion)
            parts += [clause, content] if not lead and content and rng.random() < 0.3 else [content, clause]
        else:
            parts.append(content)
        if threat:
            parts.append(self.pick("threat"))
            marks = (*marks, "threat")
        if lead:
            marks = (*marks, "effort")
        self.add("customer", sep.join(p for p in parts if p), seg, emotion, marks=marks, drop=drop)

    def trim(self, limit: int) -> None:
        """Drop removable groups (highest priority, latest first) while more than ``limit`` turns remain."""
        while len(self.rows) > limit:
            top = max(r[7] for r in self.rows)
            if top == 0:
                break
            group = next(r[8] for r in reversed(self.rows) if r[7] == top)
            kept = [r for r in self.rows if not (r[7] == top and r[8] == group)]
            if len(kept) < MIN_TURNS:
                break
            self.rows = kept
        if len(self.rows) > MAX_TURNS:
            raise AssertionError("a contact's core is longer than the turn limit")


class _Generator:
    """Plans journeys day by day and renders their contacts; see ``generate``."""

    def __init__(self, rng: Random, start: date, days: int) -> None:
        self.rng = rng
        self.start = datetime(start.year, start.month, start.day, tzinfo=TZ)
        self.days = days
        self.change_at = self.start + timedelta(days=CHANGE_AFTER_DAYS)
        self.end = self.start + timedelta(days=days)
        self.seq = 0
        self.customers: list[dict] = []
        self.stage_pick = {line: _Cum({s: v[0] for s, v in stages.items()})
                           for line, stages in STAGES.items()}
        self.issue_pick = {(line, s): _Cum(dict(zip(ISSUES, v[2], strict=True)))
                           for line, stages in STAGES.items() for s, v in stages.items()}
        self.hour_pick = {line: _Cum(dict(enumerate(w))) for line, w in _HOUR_WEIGHTS.items()}
        self.persona_pick = {k: _Cum(v) for k, v in _PERSONAS.items()}
        self.device_pick = {k: _Cum(v) for k, v in _DEVICES.items()}
        self.script_pick = _Cum(_SCRIPT_WEIGHTS)
        self.line_pick = _Cum(LINE_SHARE)
        self.channel_pick = {p: _Cum(dict(zip(("chat", "call", "ticket"), w, strict=True)))
                             for p, w in {**_CHANNELS, "": _DEFAULT_CHANNELS}.items()}

    # -- scheduling -----------------------------------------------------------------------------------------
    def run(self, n: int) -> Iterator[tuple[dict, dict]]:
        weights = [_WEEKDAY[(self.start + timedelta(days=d)).weekday()] for d in range(self.days)]
        total, cum, scheduled = sum(weights), 0.0, 0
        story_day = min(20, self.days - 7) if n >= 20 and self.days >= 8 else None
        heap: list = []
        for day in range(self.days):
            cum += weights[day]
            target = n if day == self.days - 1 else round(n * cum / total)
            if day == story_day:
                for item in self._remote_story(day):
                    self._push(heap, item)
                scheduled += len(_REMOTE_STORY)
            while scheduled < target:
                contacts = self._journey(day, n - scheduled)
                scheduled += len(contacts)
                for item in contacts:
                    self._push(heap, item)
            limit = (self.start + timedelta(days=day + 1)).timestamp()
            while heap and heap[0][0] < limit:
                yield heapq.heappop(heap)[2:]
        while heap:
            yield heapq.heappop(heap)[2:]

    def _push(self, heap: list, item: tuple[dict, dict, datetime]) -> None:
        self.seq += 1
        heapq.heappush(heap, (item[2].timestamp(), self.seq, item[0], item[1]))

    def _customer(self, line: str) -> dict:
        rng = self.rng
        if self.customers and rng.random() < 0.15:
            return rng.choice(self.customers)
        script = self.script_pick(rng)
        persona = self.persona_pick["en" if script == "en" else line](rng)
        customer = {
            "id": f"U{rng.randrange(10**8, 10**9)}", "persona": persona, "script": script,
            "city": rng.choice(CITIES[script]),
            "device": self.device_pick.get(persona, self.device_pick[""])(rng),
        }
        self.customers.append(customer)
        return customer

    def _journey(self, day: int, budget: int) -> list[tuple[dict, dict, datetime]]:
        """All contacts of one order: one usually, two or three when the first leaves the customer unhappy."""
        rng = self.rng
        line = self.line_pick(rng)
        customer = self._customer(line)
        hour = self.hour_pick[line](rng)
        when = self.start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
        stage = self.stage_pick[line](rng)
        pain = STAGES[line][stage][1]
        if line == "food_delivery" and stage == "delivery" and when >= self.change_at:
            pain = DELIVERY_PAIN_AFTER_CHANGE
        resolved = rng.random() >= 0.08 + 0.55 * pain
        repeat_p = (0.34 if not resolved else 0.02) * (0.5 + pain)
        n_contacts = 1 if rng.random() >= repeat_p else rng.choice((2, 2, 3))
        n_contacts = min(n_contacts, budget)
        order_id = _order_id(rng, line)
        issue = self.issue_pick[line, stage](rng)
        lang = "en" if customer["script"] == "en" else "zh"
        scenario = rng.randrange(len(TEXT[line][stage][lang][issue]))
        out: list[tuple[dict, dict, datetime]] = []
        chase = None
        for index in range(n_contacts):
            last = index == n_contacts - 1
            ok = resolved if last and index == 0 else (rng.random() < 0.65 if last else False)
            plan = {
                "line": line, "customer": customer, "order_id": order_id, "when": when, "stage": stage,
                "issue": issue, "scenario": scenario, "pain": pain, "resolved": ok, "index": index,
                "chase": chase,
                "promise": not ok and rng.random() < (0.35 if not last else 0.2),
                "previous": out[-1][2] if out else None,
            }
            transcript, truth, ended = self._render(plan)
            if out and chase is not None:
                out[-1][1]["promises"][-1]["kept"] = False
                out[-1][1]["promises"][-1]["chased_in"].append(transcript["id"])
            out.append((transcript, truth, when))
            chase = truth["promises"][-1] if truth["promises"] else None
            after = datetime.fromisoformat(chase["deadline"]) if chase else ended
            gap_h = rng.uniform(1, 20) if line == "food_delivery" else rng.uniform(3, 60)
            when = max(after, ended) + timedelta(hours=gap_h)
            if when >= self.end:
                break
        return out

    # -- rendering ------------------------------------------------------------------------------------------
    def _fill(self, plan: dict, lang: str, when: datetime) -> dict:
        rng = self.rng
        pools = POOLS[lang]
        stay = when + timedelta(days=rng.randrange(1, 20))
        agent = rng.choice(pools["agent"])
        return {
            "order": plan["order_id"], "tail": f"{rng.randrange(10000):04d}", "agent": agent,
            "agent_label": f"客服{agent}" if lang == "zh" else f"Agent {agent}",
            "agent2": rng.choice(pools["agent2"]), "agentno": f"{rng.randrange(1000, 9999)}",
            "shop": rng.choice(pools["shop"]), "item": rng.choice(pools["item"]),
            "hotel": rng.choice(pools["hotel"]),
            "room": rng.choice(pools["room"]), "company": rng.choice(pools["company"]),
            "minutes": rng.choice((15, 20, 25, 30, 40, 50, 60)), "km": f"{rng.uniform(0.4, 3.8):.1f}",
            "eta": (when + timedelta(minutes=rng.randrange(8, 40))).strftime("%H:%M"),
            "amount": rng.randrange(25, 160) if plan["line"] == "food_delivery" else rng.randrange(180, 1200),
            "diff": rng.choice((2, 3, 5, 8, 12, 20, 35, 50, 100)),
            "coupon": rng.choice((3, 5, 8, 10, 15, 20)),
            "date": f"{stay.month}月{stay.day}日" if lang == "zh"
            else f"{_EN_MONTHS[stay.month - 1]} {stay.day}",
            "roomno": f"{rng.randrange(2, 19)}{rng.randrange(1, 30):02d}", "queue": rng.randrange(2, 16),
            "ticket": f"GD{rng.randrange(2 * 10**9, 3 * 10**9)}", "party": "", "faq": "", "ago": "",
            "nth": "", "promise": "",
        }

    def _emotions(self, issue: str, pain: float, repeat: bool, resolved: bool, hard: bool) -> tuple[str, ...]:
        """Start, middle and end emotion of a contact: pain and repeats make it angrier, resolution calmer."""
        rng = self.rng
        weights = dict(_START_EMOTION[issue])
        for e in weights:
            if e in _HOT:
                weights[e] *= (0.4 + 2.2 * pain) * (2.0 if repeat else 1.0)
            elif e in ("neutral", "confusion"):
                weights[e] *= (1.4 - pain) * (0.3 if repeat else 1.0)
        start = _Cum(weights)(rng)
        if hard or rng.random() < pain * 0.6:
            mid = _Cum({"frustration": 2, "anger": 1 + 2 * pain, "anxiety": 1, start: 2})(rng)
        else:
            mid = _Cum({start: 2, "neutral": 3.5, "anxiety": 0.7})(rng)
        if resolved:
            end = _Cum({"gratitude": 4 * (1 - pain) + 0.3, "satisfaction": 3 * (1 - pain) + 0.5,
                        "neutral": 1.5, "disappointment": 2.5 * pain, "frustration": pain})(rng)
        else:
            end = _Cum({"anger": 1 + 2 * pain, "disappointment": 2, "frustration": 2, "anxiety": 0.5})(rng)
        return start, mid, end

    def _render(self, plan: dict) -> tuple[dict, dict, datetime]:
        """Build one contact of a journey; returns the transcript, its truth and when it ended."""
        rng = self.rng
        line, customer, pain = plan["line"], plan["customer"], plan["pain"]
        script = customer["script"]
        lang = "en" if script == "en" else "zh"
        when = plan["when"]
        channel = self.channel_pick.get(customer["persona"], self.channel_pick[""])(rng)
        if channel == "ticket" and plan["stage"] in _URGENT_STAGES:
            channel = "chat"  # nobody files a ticket about a rider who is late right now
        fill = self._fill(plan, lang, when)
        c = _Contact(rng, lang, fill, channel)
        stages = STAGES[line]
        texts = TEXT[line]

        segments = [(plan["stage"], plan["issue"])]
        nexts = stages[plan["stage"]][4]
        if nexts and rng.random() < 0.17:
            nxt = rng.choice(nexts)
            segments.append((nxt, self.issue_pick[line, nxt](rng)))
        last_seg = len(segments) - 1
        last_stage = segments[-1][0]
        resolved = plan["resolved"]
        repeat = plan["index"] > 0
        handoff = None
        if rng.random() < 0.05 + 0.45 * pain + (0.15 if repeat else 0):
            handoff = "escalate" if rng.random() < 0.6 else "transfer"
        scenarios = [texts[plan["stage"]][lang][plan["issue"]][plan["scenario"]]]
        scenarios += [rng.choice(texts[stage][lang][issue]) for stage, issue in segments[1:]]
        party = stages[plan["stage"]][3]
        third = party is not None and len(scenarios[0]) > 3 and rng.random() < 0.2 + 0.45 * pain
        bot = channel == "chat" and rng.random() < 0.55
        e_start, e_mid, e_end = self._emotions(plan["issue"], pain, repeat, resolved, handoff is not None)
        threat_p = 0.15 + 0.6 * pain

        first = texts[plan["stage"]][lang]
        problem = scenarios[0][0]
        sep = " " if lang == "en" else ""
        lead = ""
        if repeat:
            fill["ago"] = self._ago(plan["previous"], when, lang)
            fill["nth"] = _NTH[lang][min(plan["index"], 3)]
            if plan["chase"] is not None:
                fill["promise"] = plan["chase"]["quote"]
                lead = c.pick("broken")
            else:
                lead = c.pick("effort")
            lead = lead.format_map(fill)

        # Opening: how the customer reaches a person.
        if channel == "call":
            c.say("ivr", "ivr_welcome", 0)
            c.say("ivr", "ivr_menu", 0)
            if rng.random() < 0.4:
                c.say("customer", "ivr_human", 0, emotion="neutral", drop=2)
            c.say("ivr", "ivr_queue", 0)
            c.say("agent", "call_greet", 0, pause=rng.uniform(10, 40 + 200 * pain))
            c.customer(problem, 0, e_start, lead=lead)
        elif channel == "ticket":
            detail, marks = c.pick("ticket_detail"), ()
            if rng.random() < 0.25:
                detail += sep + c.pick("ticket_phone").format_map(self._pii(fill, "phone"))
                marks = ("pii\tphone\t" + fill["phone"],)
            c.customer(problem + sep + detail.format_map(fill), 0, e_start, lead=lead, marks=marks)
            c.say("system", "ticket_open", 0)
            c.say("agent", "ticket_greet", 0)
        else:
            if bot:
                c.say("bot", "bot_greet", 0, label="智能客服" if lang == "zh" else "Assistant")
                fill["faq"] = _STAGE_NAMES[lang][plan["stage"]]
                c.customer(problem, 0, e_start)
                c.say("bot", "bot_faq", 0, label="智能客服" if lang == "zh" else "Assistant")
                angry = rng.random() < pain
                c.say("customer", "ask_human_angry" if angry else "ask_human", 0,
                      emotion="frustration" if angry else "neutral")
                c.say("system", "handoff", 0)
                c.say("agent", "agent_greet", 0, pause=rng.uniform(15, 60 + 400 * pain))
                restate = c.pick("restate") if rng.random() < 0.15 + 0.5 * pain else ""
                c.customer(problem if restate else c.choose(first["follow"]), 0, e_start,
                           lead=sep.join(x for x in (lead, restate) if x))
            else:
                if rng.random() < 0.5:
                    c.say("system", "connected", 0, drop=3)
                c.say("agent", "agent_greet", 0, pause=rng.uniform(5, 30 + 200 * pain))
                c.customer(problem, 0, e_start, lead=lead)

        # Body: one block per segment.
        pii_kinds = self._pii_kinds(line, [s for s, _ in segments], channel)
        for seg, (stage, _) in enumerate(segments):
            st = texts[stage][lang]
            if seg == 0:
                if channel != "ticket":
                    c.say("agent", "ask_order", 0, drop=1)
                    c.say("customer", "give_order", 0, emotion="neutral", drop=1)
                    if rng.random() < 0.3:
                        c.pair(rng.choice(c.phrases["verify"]), 0, drop=3)
                if plan["chase"] is not None or e_start in NEGATIVE:
                    c.say("agent", "empathy", 0, drop=2)
            else:
                switch = rng.choice(st["switch"]) if "switch" in st else scenarios[seg][0]
                c.customer(switch, seg, e_mid if e_mid != "neutral" else "anxiety")
            if channel != "ticket":
                c.say("agent", "hold", seg, drop=1)
            c.add("agent", scenarios[seg][1], seg, pause=rng.uniform(20, 150))
            follow_emotion = e_mid if seg == 0 else e_end if not resolved else "neutral"
            c.customer(c.choose(st["follow"]), seg, follow_emotion, drop=int(seg == 0 and not third),
                       threat=(not resolved and e_mid == "anger" and rng.random() < threat_p * 0.5))
            if seg == 0 and third:
                fill["party"] = PARTY[party][0 if lang == "zh" else 1]
                c.say("agent", "third_intro", 0)
                c.add("third_party", scenarios[0][3], 0,
                      label=PARTY[party][2], pause=rng.uniform(30, 180))
                c.say("agent", "third_relay", 0)
                c.say("customer", "ack", 0, emotion="neutral", drop=2)
            if seg == 0 and handoff:
                self._handoff(c, handoff, channel, lang)
            for kind in pii_kinds.get(seg, ()):
                self._pii(fill, kind)
                c.group += 1
                c.say("agent", f"ask_{kind}", seg)
                mark = "\t".join(("pii", kind, fill[_PII_SLOT[kind]]))
                c.say("customer", f"give_{kind}", seg, emotion="neutral", marks=(mark,))
                c.group += 1

        # Closing, built after the filler exchanges that bring the contact to its target length.
        closing = self._closing(c, plan, scenarios[-1][2], last_seg, e_end, threat_p, texts[last_stage][lang])
        target = max(MIN_TURNS, min(MAX_TURNS, int(rng.triangular(MIN_TURNS, MAX_TURNS, 10 + 10 * pain))))
        fillers = list(texts[last_stage][lang].get("qa", ()))
        if channel == "ticket":  # tickets are a few long messages, not a chat
            target = min(target, 12)
        else:
            fillers += c.phrases["qa"]
        rng.shuffle(fillers)
        while len(c.rows) + len(closing) < target:
            qa = fillers.pop() if fillers else (c.pick("note"), c.pick("ack"))
            c.pair(tuple(s.format_map(fill) for s in qa), last_seg, drop=2)
        for args, kw in closing:
            c.add(*args, **kw)
        c.trim(target)
        return self._export(c, plan, channel, segments, resolved, when, script)

    def _closing(self, c: _Contact, plan: dict, fix: str, seg: int, e_end: str, threat_p: float,
                 st: dict) -> list[tuple[tuple, dict]]:
        """The end of a contact as a list of ``_Contact.add`` calls: resolution (``fix``) or not, farewell,
        survey."""
        rng = self.rng
        resolved = plan["resolved"]
        calls: list[tuple[tuple, dict]] = []
        sep = " " if c.lang == "en" else ""
        if resolved:
            calls.append((("agent", fix, seg), {"pause": rng.uniform(10, 90)}))
            text = c.pick(e_end) if e_end != "neutral" else c.pick("ack")
            calls.append((("customer", text, seg, e_end), {}))
            calls.append((("agent", c.pick("close_ask"), seg), {"drop": 1}))
            thanks = e_end in ("gratitude", "satisfaction") and rng.random() < 0.6
            calls.append((("customer", c.pick("close_thanks" if thanks else "close_no"), seg,
                           "gratitude" if thanks else "neutral"), {"drop": 1}))
        else:
            promise = None
            if plan["promise"]:
                options = [p for p in (*c.phrases["promise"], *st.get("promise", ()))
                           if p[2] != "tonight" or plan["when"].hour < 19]
                promise = rng.choice(options)
                mark = "\t".join(("promise", promise[1], promise[2]))
                calls.append((("agent", promise[0], seg), {"marks": (mark,)}))
            else:
                calls.append((("agent", c.pick("unresolved"), seg), {}))
            threat = e_end in ("anger", "frustration") and rng.random() < threat_p
            text = c.pick(e_end) + (sep + c.pick("threat") if threat else "")
            calls.append((("customer", text, seg, e_end), {"marks": ("threat",) if threat else ()}))
            calls.append((("agent", c.pick("apology"), seg), {}))
            if rng.random() < 0.5:
                calls.append((("customer", c.pick("disappointment" if e_end != "anger" else "anger"), seg,
                               "disappointment" if e_end != "anger" else "anger"), {"drop": 1}))
        farewell = "call_farewell" if c.channel == "call" else "farewell"
        calls.append((("agent", c.pick(farewell), seg), {}))
        plan["csat"] = plan["nps"] = None
        if rng.random() < 0.32:
            plan["csat"] = self._score(resolved, e_end, (1, 2, 3, 4, 5))
            if c.channel == "call":
                calls.append((("ivr", c.pick("ivr_survey"), seg), {"drop": 1, "step": "evaluation"}))
            elif c.channel == "chat":
                calls.append((("system", c.pick("survey"), seg), {"drop": 1, "step": "evaluation"}))
                emo = {5: "satisfaction", 4: "satisfaction", 3: "neutral"}.get(plan["csat"], "disappointment")
                calls.append((("customer", c.phrases["rating"][plan["csat"] - 1], seg, emo),
                              {"drop": 1, "step": "evaluation"}))
        if rng.random() < 0.12:
            plan["nps"] = self._score(resolved, e_end, tuple(range(11)))
        if c.channel == "ticket":
            calls.append((("system", c.pick("ticket_close"), seg), {"drop": 3}))
        elif c.channel == "chat" and rng.random() < 0.5:
            calls.append((("system", c.pick("sys_end"), seg), {"drop": 3}))
        return calls

    def _score(self, resolved: bool, e_end: str, scale: tuple[int, ...]) -> int:
        """A survey score on ``scale`` that follows the ending: happy endings score high."""
        rng = self.rng
        happy = resolved and e_end not in NEGATIVE
        top = len(scale) - 1
        if happy:
            return scale[top - min(int(rng.expovariate(1.6)), top // 2)]
        if resolved:
            return scale[rng.randrange(top // 4, top - top // 4 + 1)]
        return scale[min(int(rng.expovariate(1.2)), top // 2)]

    def _handoff(self, c: _Contact, kind: str, channel: str, lang: str) -> None:
        """A transfer or a first-line to second-line escalation, with the customer's reaction."""
        rng = self.rng
        escalate = kind == "escalate"
        step = "escalation" if escalate else None
        c.say("agent", "escalate" if escalate else "transfer", 0, step=step)
        if rng.random() < 0.6:
            c.customer(c.pick("transfer_react"), 0, rng.choice(("frustration", "frustration", "anger")),
                       marks=("effort",))
        else:
            c.say("customer", "ack", 0, emotion="neutral")
        if escalate:
            c.agent_step = "escalation"
            c.agent_label = c.fill["agent2"] if lang == "en" else f"二线-{c.fill['agent2']}"
        else:
            c.fill["agent2"] = rng.choice(POOLS[lang]["agent"])
            c.agent_label = f"Agent {c.fill['agent2']}" if lang == "en" else f"客服{c.fill['agent2']}"
        if channel == "ticket" and escalate:
            c.say("system", "ticket_escalate", 0, step=step)
        else:
            c.say("system", "sys_transfer", 0, step=step, drop=3)
        c.say("agent", "greet2" if escalate else "greet_transfer", 0, pause=rng.uniform(20, 240))

    def _pii_kinds(self, line: str, stages: list[str], channel: str) -> dict[int, tuple[str, ...]]:
        """Which PII the customer gives in which segment."""
        rng = self.rng
        kinds: dict[int, list[str]] = {}
        for seg, stage in enumerate(stages):
            chances = {"phone": 0.08 if channel != "ticket" else 0.03,
                       "email": 0.3 if line == "hotel" and stage in ("checkout", "payment") else 0.012,
                       "id": 0.15 if line == "hotel" and stage in ("check_in", "confirmation") else 0.0,
                       "card": 0.12 if stage in ("refund", "payment", "checkout") else 0.0}
            for kind, p in chances.items():
                if rng.random() < p:
                    kinds.setdefault(seg, []).append(kind)
        return {seg: tuple(v[:2]) for seg, v in kinds.items()}

    def _pii(self, fill: dict, kind: str) -> dict:
        """Make a fresh PII value of ``kind`` into ``fill``; returns ``fill``."""
        fill[_PII_SLOT[kind]] = _PII_MAKERS[kind](self.rng)
        return fill

    @staticmethod
    def _ago(previous: datetime, now: datetime, lang: str) -> str:
        days = (now.date() - previous.date()).days
        if lang == "en":
            return ("earlier today", "yesterday", "two days ago")[days] if days < 3 else f"{days} days ago"
        return ("今天早些时候", "昨天", "前天")[days] if days < 3 else f"{days}天前"

    # -- export ---------------------------------------------------------------------------------------------
    def _times(self, c: _Contact, when: datetime, lang: str) -> tuple[list[dict], datetime]:
        """Per-turn timing: ``start_ms``/``end_ms`` for calls, ``ts`` for chats and tickets."""
        rng = self.rng
        out = []
        if c.channel == "call":
            clock = 0.0
            per_char = 0.065 if lang == "en" else 0.23
            for row in c.rows:
                clock += rng.uniform(0.3, 1.5) + row[6]
                begin = clock
                clock += 0.4 + len(row[1]) * per_char * rng.uniform(0.85, 1.2)
                out.append({"start_ms": int(begin * 1000), "end_ms": int(clock * 1000)})
            return out, when + timedelta(seconds=clock)
        clock = 0.0
        ticket = c.channel == "ticket"
        previous = None
        for i, row in enumerate(c.rows):
            speaker = row[0]
            if i:
                if speaker in ("system", "bot", "ivr"):
                    gap = rng.uniform(0.5, 3)
                elif ticket and speaker != previous:  # replies to a ticket come hours later, by day
                    gap = rng.uniform(1800, 28800) if speaker == "agent" else rng.uniform(600, 14400)
                    hour = (when + timedelta(seconds=clock + gap)).hour
                    if hour < 8:
                        gap += (8 - hour) * 3600 + rng.uniform(0, 5400)
                elif speaker == "customer":
                    gap = 4 + len(row[1]) * rng.uniform(0.3, 0.9)
                else:
                    gap = rng.uniform(5, 40)
                clock += gap + row[6]
            out.append({"ts": _iso(when + timedelta(seconds=int(clock)))})
            previous = speaker
        return out, when + timedelta(seconds=clock)

    def _export(self, c: _Contact, plan: dict, channel: str, segments: list, resolved: bool, when: datetime,
                script: str) -> tuple[dict, dict, datetime]:
        customer = plan["customer"]
        lang = "en" if script == "en" else "zh"
        times, ended = self._times(c, when, lang)
        self.seq += 1
        tid = f"CX-{when:%Y%m%d}-{self.seq:06d}"
        turns, truth_turns, spans, promises, pii, marks = [], [], [], [], [], {"effort": [], "threat": []}
        trad = script == "hant"
        for i, (row, timing) in enumerate(zip(c.rows, times, strict=True)):
            speaker, text, seg, emotion, step, label = row[:6]
            if trad:
                text = _to_traditional(text)
            turn = {"speaker": speaker, "text": text, **timing}
            if label:
                turn["speaker_label"] = _to_traditional(label) if trad else label
            turns.append(turn)
            stage, issue = segments[seg]
            truth_turns.append({"turn_index": i, "stage": stage, "issue_type": issue,
                                "emotion": emotion if speaker == "customer" else None, "service_step": step})
            if spans and spans[-1]["stage"] == stage and spans[-1]["_seg"] == seg:
                spans[-1]["last_turn"] = i
            else:
                spans.append({"stage": stage, "first_turn": i, "last_turn": i, "_seg": seg})
            for mark in row[9]:
                self._mark(mark, i, text, timing, when, c.fill, marks, promises, pii)
        for span in spans:
            del span["_seg"]
        metadata = {"persona": customer["persona"], "city": customer["city"], "device": customer["device"]}
        if plan.get("csat") is not None:
            metadata["csat"] = plan["csat"]
        if plan.get("nps") is not None:
            metadata["nps"] = plan["nps"]
        transcript = {
            "id": tid, "channel": channel, "started_at": _iso(when), "customer_id": customer["id"],
            "order_id": plan["order_id"], "business_line": plan["line"], "language": lang,
            "metadata": metadata, "turns": turns,
        }
        path = [truth_turns[0]["service_step"]]
        for t in truth_turns[1:]:
            if t["service_step"] != path[-1]:
                path.append(t["service_step"])
        truth = {
            "id": tid, "business_line": plan["line"], "persona": customer["persona"], "turns": truth_turns,
            "segments": spans, "resolved": resolved, "promises": promises, "pii": pii,
            "journey": {"order_id": plan["order_id"], "contact_index": plan["index"] + 1},
            "channel": channel, "script": script, "service_path": path,
            "effort_turns": marks["effort"], "threat_turns": marks["threat"],
        }
        return transcript, truth, ended

    @staticmethod
    def _mark(mark: str, i: int, text: str, timing: dict, when: datetime, fill: dict, marks: dict,
              promises: list, pii: list) -> None:
        """Record what turn ``i`` plants: an effort marker, a threat, a PII value or a promise."""
        if mark in marks:
            marks[mark].append(i)
        elif mark.startswith("pii\t"):
            _, kind, value = mark.split("\t")
            pii.append({"turn_index": i, "kind": kind, "value": value})
        elif mark.startswith("promise\t"):
            _, quote, rule = mark.split("\t")
            made = _turn_time(timing, when)
            promises.append({"turn_index": i, "speaker": "agent", "text": text, "quote": quote,
                             "made_at": _iso(made), "deadline": _iso(_deadline(made, rule)), "kept": None,
                             "chased_in": []})

    @staticmethod
    def _story_time(base: datetime, moment: tuple[int, int, int]) -> datetime:
        days, hours, minutes = moment
        return base + timedelta(days=days, hours=hours, minutes=minutes)

    def _remote_story(self, day: int) -> list[tuple[dict, dict, datetime]]:
        """The 618 projector journey: four contacts, three promises, two of them broken, a landline hand-off."""
        rng = self.rng
        customer = {"id": f"U{rng.randrange(10**8, 10**9)}", "persona": "上班族", "script": "hans",
                    "city": "杭州", "device": "Android"}
        building, flat = rng.randrange(1, 12), rng.randrange(101, 2405)
        address = f"西湖区文三路{rng.randrange(10, 400)}号{building}幢{flat}室"
        fill = {"order": _order_id(rng, "ecommerce"), "agent": "小林", "agentno": "",
                "landline": f"0571-86{rng.randrange(10**6):06d}", "address": address}
        base = self.start + timedelta(days=day)
        out: list[tuple[dict, dict, datetime]] = []
        for contact in _REMOTE_STORY:
            when = self._story_time(base, (contact["day"], *contact["time"]))
            fill["agentno"] = f"{rng.randrange(1000, 9999)}"
            label = "坐席{agentno}" if contact["channel"] == "call" else "客服{agent}"
            c = _Contact(rng, "zh", {**fill, "agent_label": label.format_map(fill)}, contact["channel"])
            for speaker, emotion, text in contact["rows"]:
                speaker, _, party = speaker.partition(":")
                c.add(speaker, text, 0, emotion, label=party or None)
            for i in contact.get("effort", ()):
                c.rows[i][9] = ("effort",)
            for i in contact.get("threat", ()):
                c.rows[i][9] = (*c.rows[i][9], "threat")
            segments = [(contact["stage"], contact["issue"])]
            plan = {"line": "ecommerce", "customer": customer, "order_id": fill["order"], "index": len(out),
                    "csat": contact.get("csat")}
            transcript, truth, _ = self._export(c, plan, contact["channel"], segments, contact["resolved"],
                                                when, "hans")
            for i, row in enumerate(c.rows):
                for value, kind in ((fill["landline"], "phone"), (fill["address"], "address")):
                    if value in row[1]:
                        truth["pii"].append({"turn_index": i, "kind": kind, "value": value,
                                             "owner": "third_party" if kind == "phone" else "customer"})
            if "promise" in contact:
                turn, quote, due, fallback = contact["promise"]
                said = transcript["turns"][turn]
                promise = {"turn_index": turn, "speaker": "third_party", "text": said["text"], "quote": quote,
                           "made_at": _iso(_turn_time(said, when)),
                           "deadline": _iso(self._story_time(base, due)), "kept": None, "chased_in": []}
                if fallback:
                    promise["fallback_deadline"] = _iso(self._story_time(base, fallback))
                truth["promises"].append(promise)
            truth["journey"]["story"] = "seeds/001 remote control"
            out.append((transcript, truth, when))
        # Promises 1 and 2 are broken (chased in the next contact), the service station's promise is kept.
        for index in (0, 1):
            out[index][1]["promises"][0].update(kept=False, chased_in=[out[index + 1][0]["id"]])
        out[2][1]["promises"][0].update(kept=True, chased_in=[out[3][0]["id"]])
        return out


def change_date(start: date = date(2026, 8, 1)) -> date:
    """The first day on which the planted change (less pain in food-delivery ``delivery``) is in effect."""
    return start + timedelta(days=CHANGE_AFTER_DAYS)


def generate(n_transcripts: int, seed: int = 7, start: date = date(2026, 8, 1),
             days: int = 92) -> Iterator[tuple[dict, dict]]:
    """Yield ``n_transcripts`` ``(transcript, truth)`` pairs in order of ``started_at``; same arguments, same
    output."""
    if n_transcripts < 0 or days < 1:
        raise ValueError("n_transcripts must be >= 0 and days >= 1")
    yield from _Generator(Random(seed), start, days).run(n_transcripts)


def _dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write(out: str, n: int, seed: int, start: date, days: int) -> None:
    """Write ``archive.jsonl.gz`` and ``truth.jsonl.gz`` into the folder ``out`` (gzip mtime 0), or the plain
    archive to stdout when ``out`` is ``-``."""
    pairs = generate(n, seed, start, days)
    if out == "-":
        buffer = []
        for transcript, _ in pairs:
            buffer.append(_dumps(transcript))
            if len(buffer) >= 2000:
                sys.stdout.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            sys.stdout.write("\n".join(buffer) + "\n")
        sys.stdout.flush()
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "archive.jsonl.gz", "wb") as raw_a, open(folder / "truth.jsonl.gz", "wb") as raw_t, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw_a, mtime=0) as archive, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw_t, mtime=0) as truth:
        for transcript, record in pairs:
            archive.write((_dumps(transcript) + "\n").encode("utf-8"))
            truth.write((_dumps(record) + "\n").encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2400, help="number of transcripts (default 2400)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 8, 1),
                        help="first day, YYYY-MM-DD")
    parser.add_argument("--days", type=int, default=92)
    parser.add_argument("--out", default="data/demo/", help="output folder, or - for plain JSONL on stdout")
    args = parser.parse_args(argv)
    write(args.out, args.n, args.seed, args.start, args.days)
    return 0


if __name__ == "__main__":
    sys.exit(main())
